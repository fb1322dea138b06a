# sim_set_warnings(target): the project's warning set; errors when SIM_WERROR is on (CI).
function(sim_set_warnings target)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor
                                             -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
                                             # GCC 12 flags designated initialisers that omit members.
                                             -Wno-missing-field-initializers)
    if(SIM_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
        # GCC 12's flow analysis under -fsanitize=address reports uninitialised members and
        # overlapping string copies that are not there (known false positives); the regular
        # build keeps both warnings.
        target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized -Wno-restrict)
    endif()
    if(SIM_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()

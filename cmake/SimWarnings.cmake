# sim_set_warnings(target): the project's warning set; errors when SIM_WERROR is on (CI).
function(sim_set_warnings target)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor
                                             -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
                                             # GCC 12 flags designated initialisers that omit members.
                                             -Wno-missing-field-initializers)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
        # GCC 12 at -O2 and above reports overlapping copies in `"x" + std::string` (GCC bug
        # 105651), a false positive that would make every such expression a build failure.
        target_compile_options(${target} PRIVATE -Wno-restrict)
    endif()
    if(SIM_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
        # GCC's flow analysis under -fsanitize=address reports uninitialised members that are
        # not (a known source of false positives); the regular build keeps the warning.
        target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
    endif()
    if(SIM_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()

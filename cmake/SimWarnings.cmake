# sim_set_warnings(target): the project's warning set; errors when SIM_WERROR is on (CI).
function(sim_set_warnings target)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                             -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
    if(SIM_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()

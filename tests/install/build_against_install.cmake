# Shared by the install tests: installs the built libsim (SIM_BUILD_DIR) into SIM_WORK_DIR/prefix
# and configures and builds the project in `source_dir` against it in SIM_WORK_DIR/build, with
# find_package(libsim). SIM_CONSUMER_FLAGS carries the sanitizer flags of a sanitizer build, which
# the project must share to link.
function(sim_build_against_install source_dir what)
    file(REMOVE_RECURSE "${SIM_WORK_DIR}")
    execute_process(COMMAND ${CMAKE_COMMAND} --install "${SIM_BUILD_DIR}" --prefix "${SIM_WORK_DIR}/prefix"
                    RESULT_VARIABLE rc OUTPUT_QUIET)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "cmake --install failed")
    endif()
    execute_process(COMMAND ${CMAKE_COMMAND} -S "${source_dir}" -B "${SIM_WORK_DIR}/build"
                            -G "${CMAKE_GENERATOR}" "-DCMAKE_PREFIX_PATH=${SIM_WORK_DIR}/prefix"
                            "-DCMAKE_CXX_FLAGS=${SIM_CONSUMER_FLAGS}"
                            "-DCMAKE_EXE_LINKER_FLAGS=${SIM_CONSUMER_FLAGS}"
                            "-DCMAKE_MODULE_LINKER_FLAGS=${SIM_CONSUMER_FLAGS}"
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "configuring ${what} failed")
    endif()
    execute_process(COMMAND ${CMAKE_COMMAND} --build "${SIM_WORK_DIR}/build" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "building ${what} failed")
    endif()
endfunction()

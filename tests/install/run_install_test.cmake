# Installs the built libsim into a scratch prefix and builds a consumer project against it with
# find_package(libsim): the packaging works from the outside. SIM_CONSUMER_FLAGS carries the
# sanitizer flags of a sanitizer build, which the consumer must share to link.
file(REMOVE_RECURSE "${SIM_WORK_DIR}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${SIM_BUILD_DIR}" --prefix "${SIM_WORK_DIR}/prefix"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cmake --install failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S "${SIM_CONSUMER_DIR}" -B "${SIM_WORK_DIR}/build"
                        -G "${CMAKE_GENERATOR}" "-DCMAKE_PREFIX_PATH=${SIM_WORK_DIR}/prefix"
                        "-DCMAKE_CXX_FLAGS=${SIM_CONSUMER_FLAGS}"
                        "-DCMAKE_EXE_LINKER_FLAGS=${SIM_CONSUMER_FLAGS}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "configuring the consumer failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build "${SIM_WORK_DIR}/build" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "building the consumer failed")
endif()
execute_process(COMMAND "${SIM_WORK_DIR}/build/consumer" RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\\[0, 1, \"ping\"\\]")
    message(FATAL_ERROR "the consumer failed (${rc}): ${out}")
endif()

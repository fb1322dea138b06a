# Installs the built libsim into a scratch prefix and builds a consumer project against it with
# find_package(libsim): the packaging works from the outside. SIM_CONSUMER_FLAGS carries the
# sanitizer flags of a sanitizer build, which the consumer must share to link.
include(${CMAKE_CURRENT_LIST_DIR}/build_against_install.cmake)
sim_build_against_install("${SIM_CONSUMER_DIR}" "the consumer")
execute_process(COMMAND "${SIM_WORK_DIR}/build/consumer" RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\\[0, 1, \"ping\"\\]")
    message(FATAL_ERROR "the consumer failed (${rc}): ${out}")
endif()

# Installs the built libsim into a scratch prefix and builds a consumer project against it with
# find_package(libsim): the packaging works from the outside, the core (sim::sim) alone and the
# scenario layer (sim::scenario), and a mosaik simulator (sim::mosaik, the component mosaik). SIM_CONSUMER_FLAGS carries the sanitizer flags of a sanitizer
# build, which the consumer must share to link.
include(${CMAKE_CURRENT_LIST_DIR}/build_against_install.cmake)
sim_build_against_install("${SIM_CONSUMER_DIR}" "the consumer")
execute_process(COMMAND "${SIM_WORK_DIR}/build/consumer" RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "\\[0, 1, \"ping\"\\]")
    message(FATAL_ERROR "the consumer failed (${rc}): ${out}")
endif()
execute_process(COMMAND "${SIM_WORK_DIR}/build/scenario-consumer" RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "steps [1-9]")
    message(FATAL_ERROR "the scenario consumer failed (${rc}): ${out}${err}")
endif()

execute_process(COMMAND "${SIM_WORK_DIR}/build/mosaik-consumer" --help RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "counts its steps, for mosaik")
    message(FATAL_ERROR "the mosaik consumer's --help failed (${rc}): ${out}${err}")
endif()
# The example simulators are installed, as are the adapter's headers.
foreach(program example-sim agents-sim)
    execute_process(COMMAND "${SIM_WORK_DIR}/prefix/bin/${program}" --help RESULT_VARIABLE rc
                    OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0 OR NOT out MATCHES "HOST:PORT")
        message(FATAL_ERROR "the installed ${program} --help failed (${rc}): ${out}${err}")
    endif()
endforeach()
if(NOT EXISTS "${SIM_WORK_DIR}/prefix/include/sim/mosaik/simulator.hpp")
    message(FATAL_ERROR "the mosaik adapter's headers are not installed")
endif()

# No target's link interface holds an empty entry (a build-only dependency exported as nothing).
file(GLOB exported_files "${SIM_WORK_DIR}/prefix/lib*/cmake/libsim/*Targets.cmake")
foreach(f ${exported_files})
    file(READ "${f}" text)
    if(text MATCHES "LINK_ONLY:>")
        message(FATAL_ERROR "${f} holds an empty $<LINK_ONLY:> entry")
    endif()
endforeach()

# sim::sim's link interface names none of the scenario layer's dependencies.
file(GLOB targets_files "${SIM_WORK_DIR}/prefix/lib*/cmake/libsim/libsimTargets.cmake")
file(READ "${targets_files}" exported)
string(REGEX MATCH "set_target_properties\\(sim::sim PROPERTIES[^)]*\\)" core "${exported}")
if(core STREQUAL "")
    message(FATAL_ERROR "sim::sim is not exported in ${targets_files}")
endif()
foreach(dep yaml-cpp valijson CLI11 dl)
    if(core MATCHES "[^A-Za-z_]${dep}[^A-Za-z_]")
        message(FATAL_ERROR "sim::sim's link interface names ${dep}: ${core}")
    endif()
endforeach()
string(REGEX MATCH "set_target_properties\\(sim::scenario PROPERTIES[^)]*\\)" layer "${exported}")
if(NOT layer MATCHES "sim::sim")
    message(FATAL_ERROR "sim::scenario is not exported on top of sim::sim: ${layer}")
endif()

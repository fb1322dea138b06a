# Installs the built libsim into a scratch prefix, builds the agent-library template against it
# with find_package(libsim), and has the build tree's sim-runner load it and run its scenario:
# a user's own agent types work from outside libsim's tree. SIM_CONSUMER_FLAGS carries the
# sanitizer flags of a sanitizer build.
include(${CMAKE_CURRENT_LIST_DIR}/build_against_install.cmake)
sim_build_against_install("${SIM_TEMPLATE_DIR}" "the agent-library template")
execute_process(COMMAND "${SIM_RUNNER}" run "${SIM_TEMPLATE_DIR}/thermostats.yaml"
                        --plugin "${SIM_WORK_DIR}/build/libmy_agents.so" --out "${SIM_WORK_DIR}/out"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "thermostats: done at t=86400 after 145 steps")
    message(FATAL_ERROR "sim-runner with the plugin failed (${rc}): ${out} ${err}")
endif()
file(READ "${SIM_WORK_DIR}/out/heating.csv" heating)
if(NOT heating MATCHES "^time,agent,heating\n0,thermostat/0,0\n")
    message(FATAL_ERROR "unexpected recording: ${heating}")
endif()
message(STATUS "the template's agents ran under sim-runner: ${out}")
# The same, with the plugin named in the scenario, relative to the scenario file.
file(READ "${SIM_TEMPLATE_DIR}/thermostats.yaml" scenario)
file(WRITE "${SIM_WORK_DIR}/with-plugin.yaml" "plugins: [build/libmy_agents.so]\n${scenario}")
execute_process(COMMAND "${SIM_RUNNER}" run "${SIM_WORK_DIR}/with-plugin.yaml" --quiet --out "${SIM_WORK_DIR}/out2"
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT EXISTS "${SIM_WORK_DIR}/out2/heating.csv")
    message(FATAL_ERROR "sim-runner with plugins: in the scenario failed (${rc}): ${err}")
endif()
# And with the thermostat's house in a container process of its own, which loads the plugin too.
string(REPLACE "  - {name: house}" "  - {name: house, process: true}" in_process "${scenario}")
file(WRITE "${SIM_WORK_DIR}/in-process.yaml" "${in_process}")
execute_process(COMMAND "${SIM_RUNNER}" run "${SIM_WORK_DIR}/in-process.yaml" --quiet --out "${SIM_WORK_DIR}/out3"
                        --plugin "${SIM_WORK_DIR}/build/libmy_agents.so"
                RESULT_VARIABLE rc ERROR_VARIABLE err)
file(READ "${SIM_WORK_DIR}/out/temperature.csv" in_thread)
file(READ "${SIM_WORK_DIR}/out3/temperature.csv" in_own_process)
if(NOT rc EQUAL 0 OR NOT in_thread STREQUAL in_own_process)
    message(FATAL_ERROR "the plugin's agents in a container process failed or differ (${rc}): ${err}")
endif()

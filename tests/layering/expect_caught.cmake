# The layering check run on a tree of deliberately wrong includes (upside-down/): it must fail
# and name each of them, and pass the one file that is right.
cmake_minimum_required(VERSION 3.22)
execute_process(COMMAND ${CMAKE_COMMAND} -DSIM_TREE=${CMAKE_CURRENT_LIST_DIR}/upside-down
                        -DSIM_LAYERS=${SIM_LAYERS} -P ${CMAKE_CURRENT_LIST_DIR}/check_layers.cmake
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
if(rc EQUAL 0)
    message(FATAL_ERROR "the check passed a tree of wrong includes:\n${all}")
endif()
foreach(expected
        "include/sim/transport/stream.hpp:3: #include <sim/channel/channel.hpp>: transport may not include the channel layer"
        "include/sim/rpc/router.hpp:3: #include \"rpc/dispatch.hpp\": a public header includes a private one"
        "src/clock/clock.cpp:2: #include \"codec/float_repr.hpp\": the private headers of codec are for codec alone"
        "src/agent/container.cpp:2: #include <sim/scenario/runner.hpp>: agent may not include the scenario layer"
        "src/agent/container.cpp:4: #include <yaml-cpp/yaml.h>: only scenario may include yaml-cpp/"
        "src/rpc/adapter.cpp:2: #include <sim/mosaik/world.hpp>: only scenario may include the mosaik adapter"
        "6 includes go up or sideways")
    string(FIND "${all}" "${expected}" at)
    if(at EQUAL -1)
        message(FATAL_ERROR "the check did not say \"${expected}\":\n${all}")
    endif()
endforeach()
if(all MATCHES "framing/frame.cpp")
    message(FATAL_ERROR "the check refused an allowed include:\n${all}")
endif()
message("the check caught all 6 wrong includes:\n${all}")

// A container process for the tests: the test agent types behind a manager (sim::container_main).

#include <sim/scenario/container_main.hpp>

#include "agent/test_agents.hpp"

int main(int argc, char** argv) {
    static const sim::agent_registry types = sim_test::test_registry();
    return sim::container_main(argc, argv, types);
}

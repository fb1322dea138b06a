#pragma once
// The agent types sim-runner knows without plugins: the bundled scenarios' agents.

#include <sim/agent/registry.hpp>

namespace sim_runner {

/// Registers the example types (pinger, ...) in `types`.
void add_example_agents(sim::agent_registry& types);

}  // namespace sim_runner

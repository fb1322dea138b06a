#pragma once
/// Agent libraries that sim-runner loads at run time (`--plugin path.so`, `plugins:` in a
/// scenario): a shared library built against the installed libsim with `sim::plugin`, defining
/// its entry point with SIM_AGENT_PLUGIN (docs/scenarios.md,
/// tools/sim-runner/agent-library-template).

#include <string>

#include <sim/agent/registry.hpp>

namespace sim {

/// Changes when the layout of what a plugin and sim-runner share changes; a plugin built
/// against another libsim is refused with a message instead of crashing.
inline constexpr int agent_plugin_abi = 1;

/// Loads the shared library at `path` and lets it register its agent types in `types`.
/// Throws `std::runtime_error` naming the file and what went wrong (not found, no entry point,
/// built against another libsim, an exception from the entry point).
void load_agent_plugin(const std::string& path, agent_registry& types);

}  // namespace sim

/// Defines a plugin's entry point:
///
///     SIM_AGENT_PLUGIN(types) {
///         types.add<thermostat, double>("thermostat", sim::arg("target") = 21.0);
///     }
#define SIM_AGENT_PLUGIN(types)                                                \
    extern "C" [[gnu::visibility("default")]] const int sim_agent_plugin_abi = \
        ::sim::agent_plugin_abi;                                               \
    extern "C" [[gnu::visibility("default")]] void sim_register_agents(::sim::agent_registry& types)

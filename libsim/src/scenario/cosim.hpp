#pragma once
// A scenario's mosaik: section, run with libsim as the mosaik master (docs/cosim.md).

#include <string>

#include <sim/mosaik/plugin.hpp>
#include <sim/scenario/runner.hpp>
#include <sim/scenario/scenario.hpp>

namespace sim::detail {

/// Starts the world's simulators, creates and connects its entities, runs it, and writes
/// summary.json (and the execution graph when asked). Throws `scenario_error` for what the
/// scenario got wrong (naming file, line and key) and other exceptions when the run fails.
/// `types`: the agent types a `container:` simulator makes its entities of.
run_summary run_cosim(const scenario& s, const agent_registry& types, const run_options& options);

/// Loads the shared library at `path` (kept loaded) and lets it register its simulators in
/// `sims`. Throws `std::runtime_error` naming the file and what went wrong.
void load_simulator_plugin(const std::string& path, mosaik::simulator_registry& sims);

}  // namespace sim::detail

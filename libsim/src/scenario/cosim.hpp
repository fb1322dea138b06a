#pragma once
// A scenario's mosaik: section, run with libsim as the mosaik master (docs/cosim.md).

#include <sim/scenario/runner.hpp>
#include <sim/scenario/scenario.hpp>

namespace sim::detail {

/// Starts the world's simulators, creates and connects its entities, runs it, and writes
/// summary.json (and the execution graph when asked). Throws `scenario_error` for what the
/// scenario got wrong (naming file, line and key) and other exceptions when the run fails.
run_summary run_cosim(const scenario& s, const run_options& options);

}  // namespace sim::detail

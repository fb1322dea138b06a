#pragma once
/// Running a scenario: containers, agents, wiring, the clock and the recordings
/// (what `sim-runner run` does; docs/sim-runner.md).

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sim/agent/registry.hpp>
#include <sim/scenario/scenario.hpp>

namespace sim {

/// Where a run is, for progress displays.
struct run_progress {
    double time = 0;   ///< simulated time reached
    double until = 0;  ///< the last time the run goes to
    std::uint64_t steps = 0;
    std::uint64_t messages = 0;  ///< calls agents served so far
    double wall_seconds = 0;
};

struct run_options {
    std::optional<double> until;        ///< instead of the scenario's clock.until
    std::optional<std::uint64_t> seed;  ///< instead of the scenario's seed
    std::string out_dir = ".";          ///< recordings and summary.json go here
    /// Called after each step (on the runner's thread); keep it cheap.
    std::function<void(const run_progress&)> progress;
    /// Set (from a signal handler, say) to end the run after the current step: recordings are
    /// flushed and the containers shut down as at a normal end.
    const std::atomic<bool>* stop = nullptr;
    /// How to start a container in a process of its own (`process: true`): a program and its
    /// first arguments, to which the runner appends sim::container_main's options. sim-runner
    /// gives itself: `{"/path/to/sim-runner", "container"}`.
    std::vector<std::string> container_command;
    /// A scenario with a mosaik: section: write the run's execution graph here as JSON
    /// (mosaik-scheduler.md §9; `sim-runner run --execution-graph FILE`).
    std::string execution_graph;
};

/// What a run did; also written to `<out_dir>/summary.json`.
struct run_summary {
    std::string scenario;
    std::uint64_t seed = 0;
    double sim_time = 0;  ///< the last time stepped to
    std::uint64_t steps = 0;
    std::uint64_t messages = 0;  ///< calls served by agents (same container or not)
    std::uint64_t wakeups = 0;   ///< sleeps and timers that came due
    std::size_t agents = 0;
    double wall_seconds = 0;
    std::size_t peak_rss_bytes = 0;
    bool interrupted = false;  ///< ended by `run_options::stop`
    bool realtime = false;     ///< paced by wall time (clock.mode: realtime)
    double max_lag = 0;        ///< real time: the latest a step started, in seconds
    double mean_lag = 0;       ///< real time: the mean lateness over all steps
    /// A mosaik world: the steps of each simulator, in the order they were started.
    std::vector<std::pair<std::string, std::uint64_t>> simulator_steps;
    /// JSON, as written to summary.json.
    std::string to_json() const;
};

/// Runs `s` with agent types from `types`. Throws `scenario_error` for what the scenario file
/// got wrong (an unknown type, parameters that do not fit a type: naming file, line and key)
/// and other exceptions for failures while running.
run_summary run_scenario(const scenario& s, const agent_registry& types,
                         const run_options& options);

}  // namespace sim

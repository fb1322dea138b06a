#pragma once
// How a run of a scenario waits on its containers, and how it hears that it must stop
// (sim-runner's Ctrl-C): shared by the hosts, the stop watcher and the step loop.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>

namespace sim::detail {

using clock_type = std::chrono::steady_clock;

// How long the runner waits on its containers, and whether it has been told to stop. A stop is
// honoured between steps. When the run makes no progress for `grace` after a stop (a step or a
// container that hangs), its watcher abandons every wait, so that such a run still ends within
// a second of Ctrl-C; a run that moves (steps, waves, answers) is left to end its step.
struct run_control {
    const std::atomic<bool>* stop = nullptr;
    std::chrono::milliseconds timeout{std::chrono::seconds(60)};
    std::chrono::milliseconds grace{300};
    std::uint64_t progress = 0;  // steps, waves and answers from containers so far
    bool aborted = false;        // the watcher has abandoned the waits

    bool stopped() const noexcept { return stop != nullptr && stop->load(); }
};

// A wait given up because the run was told to stop: the run ends as interrupted, not failed.
struct run_abandoned : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace sim::detail

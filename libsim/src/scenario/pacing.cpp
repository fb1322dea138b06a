#include "scenario/pacing.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <boost/fiber/operations.hpp>

#include <sim/codec/number.hpp>

namespace sim::detail {

pacer::pacer(const scenario_clock& clock, std::function<bool()> stopped, run_summary& summary)
    : clock_(clock), stopped_(std::move(stopped)), summary_(summary) {
    summary_.realtime = clock_.realtime;
}

bool pacer::wait_for_step(double t) {
    if (!clock_.realtime) return !stopped_();
    const auto due = from_ + std::chrono::duration_cast<clock_type::duration>(
                                 std::chrono::duration<double>(t / clock_.factor));
    // Waits in slices, so that a stop (Ctrl-C) is not held up by a long wait.
    while (clock_type::now() < due && !stopped_()) {
        boost::this_fiber::sleep_until(
            std::min(due, clock_type::now() + std::chrono::milliseconds(50)));
    }
    if (stopped_()) return false;
    // Late by what the step before overran, or by how long waking took.
    const double lag =
        std::max(0.0, std::chrono::duration<double>(clock_type::now() - due).count());
    summary_.max_lag = std::max(summary_.max_lag, lag);
    lag_sum_ += lag;
    ++paced_;
    summary_.mean_lag = lag_sum_ / static_cast<double>(paced_);
    if (clock_.strict && lag > clock_.max_lag) {
        throw std::runtime_error(
            fmt::format("real time: the step to t={} started {:.6f} s late (clock.max_lag is {} s, "
                        "clock.strict is true)",
                        number_text(t), lag, clock_.max_lag));
    }
    return true;
}

}  // namespace sim::detail

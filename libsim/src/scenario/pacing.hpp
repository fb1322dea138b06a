#pragma once
// Real-time pacing (clock.mode: realtime): the step to t starts at wall time t / factor after
// the first; a step that cannot start on time starts late, and the lateness is what the summary
// reports (and what clock.strict refuses beyond clock.max_lag).

#include <cstdint>
#include <functional>

#include <sim/scenario/runner.hpp>
#include <sim/scenario/scenario.hpp>

#include "scenario/run_control.hpp"

namespace sim::detail {

class pacer {
  public:
    /// `stopped` says when the run is to stop; `summary` receives the lag figures.
    pacer(const scenario_clock& clock, std::function<bool()> stopped, run_summary& summary);
    /// Waits until the step to `t` is due (at once in virtual time); false when the run is to
    /// stop instead. Throws `std::runtime_error` for a strict clock that is too late.
    bool wait_for_step(double t);

  private:
    const scenario_clock& clock_;
    std::function<bool()> stopped_;
    run_summary& summary_;
    clock_type::time_point from_ = clock_type::now();
    double lag_sum_ = 0;
    std::uint64_t paced_ = 0;
};

}  // namespace sim::detail

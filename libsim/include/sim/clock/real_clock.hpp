#pragma once
/// Wall-clock time, for deployment.

#include <chrono>
#include <list>

#include <sim/clock/clock.hpp>

namespace sim {

namespace detail {
class fiber_waiter;
}

/// Real time: `now()` counts seconds of the steady clock from the clock's creation (aiomas'
/// AsyncioClock counts from the loop's), `utcnow()` reads the system clock, and sleeps and
/// timers are fiber timers of the runtime.
class real_clock final : public clock {
  public:
    real_clock();
    ~real_clock() override;

    double now() const override;
    utc_time utcnow() const override;
    void sleep_until_in(clock_scope* scope, double t) override;
    timer call_at_in(clock_scope* scope, double t, std::function<void()> f) override;
    using clock::call_at;
    using clock::sleep_until;
    void cancel_all() override;

  private:
    struct sleeper : clock_scope::node {
        explicit sleeper(detail::fiber_waiter* w) noexcept : waiter(w) {}
        detail::fiber_waiter* waiter;
        bool cancelled = false;
    };
    static void cancel_sleep(clock_scope::node& n) noexcept;
    std::chrono::steady_clock::time_point start_;
    std::list<sleeper*> sleepers_;
    bool shut_down_ = false;
};

}  // namespace sim

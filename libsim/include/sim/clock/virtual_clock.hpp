#pragma once
/// Virtual time, moved only from outside: the clock of simulations (aiomas' ExternalClock).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <sim/clock/clock.hpp>

namespace sim {

namespace detail {
class fiber_waiter;
}

/// Time that moves only when `set_time` is called: as aiomas' ExternalClock, with a UTC start
/// date (`utcnow() = start + now()` seconds) and an initial time. Waking is deterministic: when
/// time moves to `t`, everything due by `t` wakes in (deadline, registration) order, and since
/// fibers run in FIFO order they run in that order too. A container's `step(t)` builds on this:
/// set the time, then run until quiet.
class virtual_clock final : public clock {
  public:
    /// Starts at `start` (default: the Unix epoch) with `now() == init_time`.
    explicit virtual_clock(utc_time start = utc_time(), double init_time = 0);
    /// `start` in ISO 8601, as aiomas accepts it (`"2016-01-01T00:00:00+00:00"`).
    explicit virtual_clock(std::string_view start, double init_time = 0);
    ~virtual_clock() override;

    double now() const override { return now_; }
    utc_time utcnow() const override { return start_.plus_seconds(now_); }
    void sleep_until_in(clock_scope* scope, double t) override;
    timer call_at_in(clock_scope* scope, double t, std::function<void()> f) override;
    using clock::call_at;
    using clock::sleep_until;
    void cancel_all() override;
    bool is_virtual() const noexcept override { return true; }

    /// Moves time to `t` and wakes what is due, in order. Requires `t > now()`, else throws
    /// `std::invalid_argument` with aiomas' words: "Time must be > 30 but is 10". The woken
    /// fibers run after this returns, as in aiomas.
    void set_time(double t);
    /// The earliest time something waits for, or nothing.
    std::optional<double> next_event() const;
    /// Fibers and timers waiting for a time.
    std::size_t waiting() const noexcept;
    utc_time start() const noexcept { return start_; }
    /// Sleeps and timers that came due since the clock was made.
    std::uint64_t wakeups() const noexcept { return wakeups_; }

  private:
    struct entry {
        detail::fiber_waiter* waiter = nullptr;    // a sleeping fiber ...
        bool* cancelled = nullptr;                 // ... told when it is cancelled
        std::shared_ptr<sim::timer::state> timed;  // or a timer; neither: cancelled by its scope
    };
    struct bucket {
        std::vector<entry> entries;  // in registration order; positions never change
        std::size_t live = 0;        // entries not cancelled by a scope
    };
    struct sleep_node;
    friend struct sleep_node;
    static void cancel_sleep(clock_scope::node& n) noexcept;
    static void cancel_timer(clock_scope::node& n) noexcept;
    // Takes a scope-cancelled wait out of its bucket (if its time has not come yet).
    void forget(double at, std::size_t index) noexcept;
    void drop_cancelled_timers() const;

    utc_time start_;
    double now_;
    bucket& bucket_at(double t);
    mutable std::map<double, bucket> due_;  // by deadline
    // Emptied buckets' storage, for the next deadlines: a step of a million sleepers would
    // otherwise allocate (and fault in) a fresh vector of a million entries every time.
    std::vector<std::vector<entry>> spare_;
    mutable std::size_t waiting_ = 0;
    bool shut_down_ = false;
    std::uint64_t wakeups_ = 0;
};

}  // namespace sim

#pragma once
/// The clock interface every agent's time goes through (design.md §4).

#include <functional>
#include <memory>

#include <sim/clock/utc_time.hpp>

namespace sim {

/// A timer from `call_at`/`call_in`; cancelling it keeps its function from running.
class timer {
  public:
    timer() = default;
    /// Keeps the function from running if it has not started. Idempotent.
    void cancel() noexcept;
    /// Set and neither run nor cancelled.
    bool pending() const noexcept;

    struct state;
    explicit timer(std::shared_ptr<state> s) noexcept : state_(std::move(s)) {}

  private:
    std::shared_ptr<state> state_;
};

/// The time of a container, shared by its agents. Nothing in an agent reads the system clock:
/// it asks this. Two kinds: `real_clock` (wall time) and `virtual_clock` (time moves only when
/// told, for simulation). All members run on the container's runtime thread; the waiting ones
/// suspend only the calling fiber.
class clock {
  public:
    virtual ~clock() = default;

    /// Seconds on this clock's scale: since the clock was made (real), or the time last set
    /// (virtual; aiomas' `time()`).
    virtual double now() const = 0;
    /// The date and time now.
    virtual utc_time utcnow() const = 0;

    /// Suspends the calling fiber until `now() >= t`. Throws `std::invalid_argument` unless
    /// `t > now()`, and `sim::cancelled` when the clock is shut down first.
    void sleep_until(double t) { sleep_until_in(nullptr, t); }
    /// Suspends the calling fiber for `dt > 0` seconds.
    void sleep_for(double dt);
    /// Until a date, which must be later than `utcnow()` (aiomas: "Date ... is in the past").
    void sleep_until(utc_time date);

    /// Runs `f` in a new fiber at time `t > now()`, in the order timers and sleeps were set for
    /// the same time. The returned timer cancels it.
    timer call_at(double t, std::function<void()> f) {
        return call_at_in(nullptr, t, std::move(f));
    }
    timer call_in(double dt, std::function<void()> f);
    timer call_at(utc_time date, std::function<void()> f);

    /// Wakes every sleeping fiber with `sim::cancelled` and cancels every timer: a shutdown.
    virtual void cancel_all() = 0;

    /// Whether time moves only when told.
    virtual bool is_virtual() const noexcept { return false; }

    /// Scopes: sleeps and timers tagged with a scope (any address that identifies an owner, such
    /// as an agent) can be cancelled together by `cancel_scope`, which wakes the scope's sleeping
    /// fibers with `sim::cancelled` and cancels its timers. Views such as an agent's clock build
    /// on these; a plain `sleep_until`/`call_at` has no scope.
    virtual void sleep_until_in(const void* scope, double t) = 0;
    virtual timer call_at_in(const void* scope, double t, std::function<void()> f) = 0;
    /// Costs time in proportion to everything waiting on the clock.
    virtual void cancel_scope(const void* scope) = 0;

  protected:
    /// `date` on this clock's scale; throws `std::invalid_argument` when it is not later than now.
    double to_clock_time(utc_time date) const;
};

}  // namespace sim

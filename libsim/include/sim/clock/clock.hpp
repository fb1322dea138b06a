#pragma once
/// The clock interface every agent's time goes through (design.md §4).

#include <functional>
#include <memory>

#include <sim/clock/utc_time.hpp>

namespace sim {

/// Sleeps and timers that end together: an agent's, when the agent is removed. Pass one to
/// `clock::sleep_until_in` and `clock::call_at_in`; `cancel()` then wakes the scope's sleeping
/// fibers with `sim::cancelled` and cancels its timers, in time proportional to their number.
/// Not copyable or movable: the clock links its waits into it.
class clock_scope {
  public:
    /// One wait linked into a scope; what cancelling it does is the clock's business.
    struct node {
        node* prev = nullptr;
        node* next = nullptr;
        void (*on_cancel)(node&) noexcept = nullptr;
        bool linked() const noexcept { return prev != nullptr; }
        void unlink() noexcept {
            if (prev == nullptr) return;
            prev->next = next;
            next->prev = prev;
            prev = next = nullptr;
        }
    };

    clock_scope() noexcept { head_.prev = head_.next = &head_; }
    clock_scope(const clock_scope&) = delete;
    clock_scope& operator=(const clock_scope&) = delete;
    ~clock_scope() { cancel(); }

    void link(node& n) noexcept {
        n.next = &head_;
        n.prev = head_.prev;
        head_.prev->next = &n;
        head_.prev = &n;
    }
    /// Cancels every wait of the scope; waits added later are not affected.
    void cancel() noexcept {
        while (head_.next != &head_) {
            node* n = head_.next;
            n->unlink();
            n->on_cancel(*n);
        }
    }
    bool empty() const noexcept { return head_.next == &head_; }

  private:
    node head_;
};

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

    /// The same, belonging to `scope` (nullptr: none), which can cancel them together.
    virtual void sleep_until_in(clock_scope* scope, double t) = 0;
    virtual timer call_at_in(clock_scope* scope, double t, std::function<void()> f) = 0;

  protected:
    /// `date` on this clock's scale; throws `std::invalid_argument` when it is not later than now.
    double to_clock_time(utc_time date) const;
};

}  // namespace sim

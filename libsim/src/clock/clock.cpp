#include <sim/clock/clock.hpp>
#include <sim/clock/real_clock.hpp>
#include <sim/clock/virtual_clock.hpp>

#include <cmath>
#include <stdexcept>

#include <boost/fiber/operations.hpp>

#include <sim/core/error.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/runtime/use_fiber.hpp>

#include "codec/float_repr.hpp"

namespace sim {

struct timer::state {
    std::function<void()> f;
    bool cancelled = false;
    bool fired = false;
    detail::fiber_waiter* waiting = nullptr;  // the real clock's timer fiber, to wake on cancel
};

void timer::cancel() noexcept {
    if (!state_ || state_->fired || state_->cancelled) return;
    state_->cancelled = true;
    state_->f = nullptr;
    if (state_->waiting != nullptr) std::exchange(state_->waiting, nullptr)->wake();
}

bool timer::pending() const noexcept {
    return state_ && !state_->fired && !state_->cancelled;
}

namespace {

// Numbers as Python prints them in aiomas' messages: 30, not 30.0, for whole numbers.
std::string number_text(double x) {
    if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 1e15) {
        return std::to_string(static_cast<long long>(x));
    }
    char buf[detail::float_repr_max];
    return std::string(buf, detail::float_repr(x, buf));
}

runtime& current_runtime() {
    runtime* rt = runtime::current();
    if (rt == nullptr) throw std::logic_error("a sim::clock is used from fibers of a sim::runtime");
    return *rt;
}

}  // namespace

void clock::sleep_for(double dt) {
    if (!(dt > 0))
        throw std::invalid_argument("sleep_for: the duration must be > 0, not " + number_text(dt));
    sleep_until(now() + dt);
}

double clock::to_clock_time(utc_time date) const {
    double t = date.seconds_since(utcnow()) + now();
    if (!(t > now()))
        throw std::invalid_argument("Date \"" + date.to_string() + "\" is in the past");
    return t;
}

void clock::sleep_until(utc_time date) {
    sleep_until(to_clock_time(date));
}

timer clock::call_in(double dt, std::function<void()> f) {
    if (!(dt > 0))
        throw std::invalid_argument("call_in: the delay must be > 0, not " + number_text(dt));
    return call_at(now() + dt, std::move(f));
}

timer clock::call_at(utc_time date, std::function<void()> f) {
    return call_at(to_clock_time(date), std::move(f));
}

// ---- real time ---------------------------------------------------------------------------------

real_clock::real_clock() : start_(std::chrono::steady_clock::now()) {}
real_clock::~real_clock() = default;

double real_clock::now() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

utc_time real_clock::utcnow() const {
    return utc_time::now();
}

void real_clock::sleep_until_in(const void* scope, double t) {
    if (!(t > now()))
        throw std::invalid_argument("sleep_until: " + number_text(t) + " is not later than now");
    if (shut_down_) throw cancelled("the clock has shut down");
    detail::fiber_waiter waiter;
    sleeper me{&waiter, scope};
    auto it = sleepers_.insert(sleepers_.end(), &me);
    auto deadline = start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::duration<double>(t));
    waiter.wait_until(deadline);
    sleepers_.erase(it);
    if (me.cancelled)
        throw cancelled(scope != nullptr && !shut_down_ ? "cancelled" : "the clock has shut down");
}

timer real_clock::call_at_in(const void* scope, double t, std::function<void()> f) {
    if (!(t > now()))
        throw std::invalid_argument("call_at: " + number_text(t) + " is not later than now");
    auto st = std::make_shared<timer::state>();
    st->f = std::move(f);
    auto deadline = start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::duration<double>(t));
    current_runtime().spawn([this, st, deadline, scope] {
        detail::fiber_waiter waiter;
        sleeper me{&waiter, scope};
        st->waiting = &waiter;
        auto it = sleepers_.insert(sleepers_.end(), &me);
        waiter.wait_until(deadline);
        sleepers_.erase(it);
        st->waiting = nullptr;
        if (st->cancelled || me.cancelled) return;
        st->fired = true;
        auto run = std::move(st->f);
        run();
    });
    return timer(st);
}

void real_clock::cancel_all() {
    shut_down_ = true;
    for (sleeper* s : sleepers_) {
        if (!s->waiter->done()) {
            s->cancelled = true;
            s->waiter->wake();
        }
    }
}

void real_clock::cancel_scope(const void* scope) {
    if (scope == nullptr) return;
    for (sleeper* s : sleepers_) {
        if (s->scope == scope && !s->waiter->done()) {
            s->cancelled = true;
            s->waiter->wake();
        }
    }
}

// ---- virtual time ------------------------------------------------------------------------------

virtual_clock::virtual_clock(utc_time start, double init_time) : start_(start), now_(init_time) {}
virtual_clock::virtual_clock(std::string_view start, double init_time)
    : virtual_clock(utc_time::parse(start), init_time) {}
virtual_clock::~virtual_clock() = default;

void virtual_clock::sleep_until_in(const void* scope, double t) {
    if (!(t > now_))
        throw std::invalid_argument("sleep_until: " + number_text(t) + " is not later than now (" +
                                    number_text(now_) + ")");
    if (shut_down_) throw cancelled("the clock has shut down");
    detail::fiber_waiter waiter;
    bool was_cancelled = false;
    due_[t].push_back({&waiter, &was_cancelled, nullptr, scope});
    ++waiting_;
    waiter.wait();
    if (was_cancelled)
        throw cancelled(scope != nullptr && !shut_down_ ? "cancelled" : "the clock has shut down");
}

timer virtual_clock::call_at_in(const void* scope, double t, std::function<void()> f) {
    if (!(t > now_))
        throw std::invalid_argument("call_at: " + number_text(t) + " is not later than now (" +
                                    number_text(now_) + ")");
    auto st = std::make_shared<timer::state>();
    st->f = std::move(f);
    due_[t].push_back({nullptr, nullptr, st, scope});
    ++waiting_;
    return timer(st);
}

void virtual_clock::set_time(double t) {
    if (!(t > now_)) {
        throw std::invalid_argument("Time must be > " + number_text(now_) + " but is " +
                                    number_text(t));
    }
    now_ = t;
    // Everything due by t, by deadline, and within a deadline in the order it was set; the
    // fibers run later in that same order (FIFO), so the order of wake-ups is deterministic.
    while (!due_.empty() && due_.begin()->first <= t) {
        std::vector<entry> batch = std::move(due_.begin()->second);
        due_.erase(due_.begin());
        for (entry& e : batch) {
            --waiting_;
            if (e.waiter != nullptr) {
                e.waiter->wake();
            } else if (!e.timed->cancelled) {
                auto st = e.timed;
                current_runtime().spawn([st] {
                    if (st->cancelled) return;
                    st->fired = true;
                    auto run = std::move(st->f);
                    run();
                });
            }
        }
    }
}

void virtual_clock::drop_cancelled_timers() const {
    while (!due_.empty()) {
        auto& batch = due_.begin()->second;
        bool live = false;
        for (const entry& e : batch)
            live = live || e.waiter != nullptr || !e.timed->cancelled;
        if (live) return;
        due_.erase(due_.begin());
    }
}

std::optional<double> virtual_clock::next_event() const {
    drop_cancelled_timers();
    if (due_.empty()) return std::nullopt;
    return due_.begin()->first;
}

std::size_t virtual_clock::waiting() const noexcept {
    return waiting_;
}

void virtual_clock::cancel_scope(const void* scope) {
    if (scope == nullptr) return;
    for (auto it = due_.begin(); it != due_.end();) {
        auto& batch = it->second;
        std::size_t kept = 0;
        for (entry& e : batch) {
            if (e.scope != scope) {
                batch[kept++] = std::move(e);
                continue;
            }
            --waiting_;
            if (e.waiter != nullptr) {
                *e.cancelled = true;
                e.waiter->wake();
            } else {
                e.timed->cancelled = true;
            }
        }
        batch.resize(kept);
        it = batch.empty() ? due_.erase(it) : std::next(it);
    }
}

void virtual_clock::cancel_all() {
    shut_down_ = true;
    for (auto& [t, batch] : std::exchange(due_, {})) {
        for (entry& e : batch) {
            if (e.waiter != nullptr) {
                *e.cancelled = true;
                e.waiter->wake();
            } else {
                e.timed->cancelled = true;
            }
        }
    }
    waiting_ = 0;
}

}  // namespace sim

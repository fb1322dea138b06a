#include <sim/clock/clock.hpp>
#include <sim/clock/real_clock.hpp>
#include <sim/clock/virtual_clock.hpp>

#include <cmath>
#include <stdexcept>

#include <boost/fiber/operations.hpp>

#include <sim/codec/number.hpp>
#include <sim/core/error.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/runtime/use_fiber.hpp>

// A sleeping fiber links a node on its own stack into its scope and unlinks it before it
// returns; GCC cannot see the unlink and warns.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif

namespace sim {

struct timer::state {
    std::function<void()> f;
    bool cancelled = false;
    bool fired = false;
    detail::fiber_waiter* waiting = nullptr;  // the real clock's timer fiber, to wake on cancel
    // Its link into a scope, and where the virtual clock keeps it (to forget it when cancelled).
    struct scope_link : clock_scope::node {
        state* owner = nullptr;
        virtual_clock* clock = nullptr;
        double at = 0;
        std::size_t index = 0;
    } link;

    state() { link.owner = this; }
    state(const state&) = delete;
    state& operator=(const state&) = delete;
    ~state() { link.unlink(); }

    void cancel() noexcept {
        cancelled = true;
        f = nullptr;
        link.unlink();
        if (waiting != nullptr) std::exchange(waiting, nullptr)->wake();
    }
};

void timer::cancel() noexcept {
    if (!state_ || state_->fired || state_->cancelled) return;
    state_->cancel();
}

bool timer::pending() const noexcept {
    return state_ && !state_->fired && !state_->cancelled;
}

namespace {

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

void real_clock::cancel_sleep(clock_scope::node& n) noexcept {
    auto& me = static_cast<sleeper&>(n);
    if (me.waiter->done()) return;
    me.cancelled = true;
    me.waiter->wake();
}

void real_clock::sleep_until_in(clock_scope* scope, double t) {
    if (!(t > now()))
        throw std::invalid_argument("sleep_until: " + number_text(t) + " is not later than now");
    if (shut_down_) throw cancelled("the clock has shut down");
    detail::fiber_waiter waiter;
    sleeper me(&waiter);
    if (scope != nullptr) {
        me.on_cancel = &cancel_sleep;
        scope->link(me);
    }
    auto it = sleepers_.insert(sleepers_.end(), &me);
    auto deadline = start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::duration<double>(t));
    waiter.wait_until(deadline);
    sleepers_.erase(it);
    me.unlink();
    if (me.cancelled)
        throw cancelled(shut_down_ ? "the clock has shut down" : "the sleep was cancelled");
}

timer real_clock::call_at_in(clock_scope* scope, double t, std::function<void()> f) {
    if (!(t > now()))
        throw std::invalid_argument("call_at: " + number_text(t) + " is not later than now");
    auto st = std::make_shared<timer::state>();
    st->f = std::move(f);
    if (scope != nullptr) {
        st->link.on_cancel = [](clock_scope::node& n) noexcept {
            static_cast<timer::state::scope_link&>(n).owner->cancel();
        };
        scope->link(st->link);
    }
    auto deadline = start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::duration<double>(t));
    current_runtime().spawn([this, st, deadline] {
        detail::fiber_waiter waiter;
        sleeper me(&waiter);
        st->waiting = &waiter;
        auto it = sleepers_.insert(sleepers_.end(), &me);
        waiter.wait_until(deadline);
        sleepers_.erase(it);
        st->waiting = nullptr;
        st->link.unlink();
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

// ---- virtual time ------------------------------------------------------------------------------

virtual_clock::virtual_clock(utc_time start, double init_time) : start_(start), now_(init_time) {}
virtual_clock::virtual_clock(std::string_view start, double init_time)
    : virtual_clock(utc_time::parse(start), init_time) {}
virtual_clock::~virtual_clock() = default;

struct virtual_clock::sleep_node : clock_scope::node {
    virtual_clock* clock = nullptr;
    detail::fiber_waiter* waiter = nullptr;
    bool* cancelled = nullptr;
    double at = 0;
    std::size_t index = 0;
};

void virtual_clock::cancel_sleep(clock_scope::node& n) noexcept {
    auto& me = static_cast<sleep_node&>(n);
    me.clock->forget(me.at, me.index);
    // Its time may have come already (woken, not yet run): it still ends cancelled.
    *me.cancelled = true;
    if (!me.waiter->done()) me.waiter->wake();
}

void virtual_clock::cancel_timer(clock_scope::node& n) noexcept {
    auto& link = static_cast<timer::state::scope_link&>(n);
    virtual_clock* clock = link.clock;
    const double at = link.at;
    const std::size_t index = link.index;
    link.owner->cancel();
    clock->forget(at, index);  // may drop the last reference to the timer: nothing touches it after
}

void virtual_clock::forget(double at, std::size_t index) noexcept {
    auto it = due_.find(at);
    if (it == due_.end()) return;
    entry& e = it->second.entries[index];
    if (e.waiter == nullptr && e.timed == nullptr) return;
    e.waiter = nullptr;
    e.timed = nullptr;
    --waiting_;
    if (--it->second.live == 0) due_.erase(it);
}

void virtual_clock::sleep_until_in(clock_scope* scope, double t) {
    if (!(t > now_)) {
        throw std::invalid_argument("sleep_until: " + number_text(t) + " is not later than now (" +
                                    number_text(now_) + ")");
    }
    if (shut_down_) throw cancelled("the clock has shut down");
    detail::fiber_waiter waiter;
    bool was_cancelled = false;
    bucket& b = bucket_at(t);
    const std::size_t index = b.entries.size();
    b.entries.push_back({&waiter, &was_cancelled, nullptr});
    ++b.live;
    ++waiting_;
    sleep_node node;
    if (scope != nullptr) {
        node.on_cancel = &cancel_sleep;
        node.clock = this;
        node.waiter = &waiter;
        node.cancelled = &was_cancelled;
        node.at = t;
        node.index = index;
        scope->link(node);
    }
    waiter.wait();
    node.unlink();
    if (was_cancelled)
        throw cancelled(shut_down_ ? "the clock has shut down" : "the sleep was cancelled");
}

timer virtual_clock::call_at_in(clock_scope* scope, double t, std::function<void()> f) {
    if (!(t > now_)) {
        throw std::invalid_argument("call_at: " + number_text(t) + " is not later than now (" +
                                    number_text(now_) + ")");
    }
    auto st = std::make_shared<timer::state>();
    st->f = std::move(f);
    bucket& b = bucket_at(t);
    const std::size_t index = b.entries.size();
    b.entries.push_back({nullptr, nullptr, st});
    ++b.live;
    ++waiting_;
    if (scope != nullptr) {
        st->link.on_cancel = &cancel_timer;
        st->link.clock = this;
        st->link.at = t;
        st->link.index = index;
        scope->link(st->link);
    }
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
        std::vector<entry> batch = std::move(due_.begin()->second.entries);
        due_.erase(due_.begin());
        for (entry& e : batch) {
            if (e.waiter != nullptr) {
                --waiting_;
                ++wakeups_;
                e.waiter->wake();
            } else if (e.timed != nullptr) {
                --waiting_;
                e.timed->link.unlink();  // due: its scope can no longer take it back
                if (e.timed->cancelled) continue;
                ++wakeups_;
                auto st = std::move(e.timed);
                current_runtime().spawn([st] {
                    if (st->cancelled) return;
                    st->fired = true;
                    auto run = std::move(st->f);
                    run();
                });
            }
        }
        if (spare_.size() < 4) {
            batch.clear();
            spare_.push_back(std::move(batch));
        }
    }
}

virtual_clock::bucket& virtual_clock::bucket_at(double t) {
    auto [it, made] = due_.try_emplace(t);
    if (made && !spare_.empty()) {
        it->second.entries = std::move(spare_.back());
        spare_.pop_back();
    }
    return it->second;
}

void virtual_clock::drop_cancelled_timers() const {
    while (!due_.empty()) {
        const auto& batch = due_.begin()->second.entries;
        bool live = false;
        for (const entry& e : batch)
            live = live || e.waiter != nullptr || (e.timed != nullptr && !e.timed->cancelled);
        if (live) return;
        for (const entry& e : batch) {
            if (e.timed != nullptr) --waiting_;
        }
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

void virtual_clock::cancel_all() {
    shut_down_ = true;
    for (auto& [t, b] : std::exchange(due_, {})) {
        for (entry& e : b.entries) {
            if (e.waiter != nullptr) {
                *e.cancelled = true;
                e.waiter->wake();
            } else if (e.timed != nullptr) {
                e.timed->cancel();
            }
        }
    }
    waiting_ = 0;
}

}  // namespace sim

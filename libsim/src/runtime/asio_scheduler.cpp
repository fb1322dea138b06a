#include "runtime/asio_scheduler.hpp"

#include <sim/runtime/use_fiber.hpp>

namespace sim::detail {

boost::fibers::context* asio_scheduler::pick_next() noexcept {
    if (++picks_ >= fairness_interval) {
        // Handlers may wake fibers, so I/O runs only on the dispatcher's context: a fiber in the
        // middle of suspending must not be woken (and resumed) from inside its own switch.
        if (boost::fibers::context::active()->is_context(boost::fibers::type::dispatcher_context)) {
            picks_ = 0;
            io_.poll();
        } else if (dispatcher_ != nullptr && dispatcher_->ready_is_linked()) {
            // Let the dispatcher jump the queue; it comes back here and polls.
            dispatcher_->ready_unlink();
            return dispatcher_;
        }
    }
    if (ready_.empty()) return nullptr;
    boost::fibers::context* ctx = &ready_.front();
    ready_.pop_front();
    return ctx;
}

std::size_t asio_scheduler::ready_workers() const noexcept {
    std::size_t n = 0;
    for (const auto& ctx : ready_) {
        if (!ctx.is_context(boost::fibers::type::dispatcher_context)) ++n;
    }
    return n;
}

std::atomic<void (*)()> suspend_probe{nullptr};

bool asio_scheduler::woken() noexcept {
    // Handlers that ran may have made local fibers ready; another thread may have made a fiber
    // ready that only the dispatcher can move into ready_. Either way the dispatcher must look
    // again instead of this thread going to sleep.
    if (notified_.exchange(false, std::memory_order_seq_cst)) return true;
    return !ready_.empty();
}

void asio_scheduler::suspend_until(std::chrono::steady_clock::time_point const& deadline) noexcept {
    if (auto probe = suspend_probe.load(std::memory_order_relaxed)) probe();
    picks_ = 0;
    if (io_.stopped()) io_.restart();
    if (hooks_.idle_waiters.empty() && busy_poll_.count() == 0) {
        // Nobody waits to see the runtime idle and nothing polls: block at once. A poll first
        // would cost a system call (epoll_wait with no timeout) each time the runtime goes
        // idle, which a request/reply link does at every message; run_one finds what is ready
        // the same way.
        if (woken()) return;
        block_until(deadline);
        return;
    }
    io_.poll();
    if (woken()) return;
    // Nothing is ready, no I/O completion waits and no other thread has woken a fiber of ours:
    // the runtime is idle. Whoever waits for that (a virtual-time step waiting for quiescence)
    // runs now, before any busy-polling: a step would otherwise pay the whole busy-poll period.
    if (!hooks_.idle_waiters.empty()) {
        for (fiber_waiter* w : std::exchange(hooks_.idle_waiters, {}))
            w->wake();
        return;
    }
    if (busy_poll_.count() > 0) {
        auto until = std::chrono::steady_clock::now() + busy_poll_;
        if (deadline < until) until = deadline;
        while (std::chrono::steady_clock::now() < until) {
            io_.poll();
            if (woken()) return;
        }
    }
    block_until(deadline);
}

// Blocks in the kernel until a handler is ready (the runtime's work guard keeps run_one from
// returning early) or the earliest fiber timer is due. A notify() after the caller's check
// posts a handler, so this returns for it: no wake-up is lost between the check and the sleep.
void asio_scheduler::block_until(std::chrono::steady_clock::time_point const& deadline) noexcept {
    if (deadline == std::chrono::steady_clock::time_point::max()) {
        io_.run_one();
    } else {
        io_.run_one_until(deadline);
    }
}

}  // namespace sim::detail

#pragma once
// The bridge between Boost.Fiber and Asio: a scheduling algorithm that runs ready fibers in FIFO
// order and, when none is ready, runs the io_context: polls it, optionally keeps polling for a
// busy-poll window, then blocks in it until I/O, a timer or a wake-up from another thread.

#include <atomic>
#include <chrono>
#include <vector>

#include <boost/fiber/algo/algorithm.hpp>
#include <boost/fiber/context.hpp>
#include <boost/fiber/scheduler.hpp>

#include <sim/core/asio.hpp>

namespace sim::detail {

class fiber_waiter;
class asio_scheduler;

// What the runtime shares with its scheduler: fibers waiting for the runtime to be idle.
struct scheduler_hooks {
    std::vector<fiber_waiter*> idle_waiters;
    asio_scheduler* scheduler = nullptr;
};

class asio_scheduler final : public boost::fibers::algo::algorithm {
  public:
    asio_scheduler(boost::asio::io_context& io, std::chrono::microseconds busy_poll,
                   scheduler_hooks& hooks) noexcept
        : io_(io), busy_poll_(busy_poll), hooks_(hooks) {
        hooks_.scheduler = this;
    }
    ~asio_scheduler() override {
        if (hooks_.scheduler == this) hooks_.scheduler = nullptr;
    }

    /// Ready fibers, not counting Boost's dispatcher.
    std::size_t ready_workers() const noexcept;

    void awakened(boost::fibers::context* ctx) noexcept override {
        // Boost keeps its dispatcher context in the ready queue while fibers run; remember it so
        // that pick_next can hand the CPU to it for an I/O turn.
        if (ctx->is_context(boost::fibers::type::dispatcher_context)) dispatcher_ = ctx;
        ctx->ready_link(ready_);
    }

    boost::fibers::context* pick_next() noexcept override;

    bool has_ready_fibers() const noexcept override { return !ready_.empty(); }

    void suspend_until(std::chrono::steady_clock::time_point const& deadline) noexcept override;
    void block_until(std::chrono::steady_clock::time_point const& deadline) noexcept;

    // Another thread made one of our fibers ready. Boost has linked it into the scheduler's
    // remote-ready queue, which the dispatcher drains only between calls to suspend_until, so
    // the fiber is not in ready_ yet. The flag says so to a suspend_until already past that
    // drain; the post wakes one blocked in epoll.
    void notify() noexcept override {
        notified_.store(true, std::memory_order_seq_cst);
        boost::asio::post(io_, [] {});
    }

  private:
    // Whether the dispatcher has work to look at; consumes a pending notify().
    bool woken() noexcept;

    // I/O gets a turn at least this often while fibers keep each other busy.
    static constexpr unsigned fairness_interval = 64;

    boost::asio::io_context& io_;
    std::chrono::microseconds busy_poll_;
    scheduler_hooks& hooks_;
    boost::fibers::scheduler::ready_queue_type ready_;
    unsigned picks_ = 0;
    boost::fibers::context* dispatcher_ = nullptr;
    std::atomic<bool> notified_{false};
};

/// Test hook: called at the start of every suspend_until, on the scheduler's thread, before it
/// looks for work. Lets a test make another thread's wake-up arrive at exactly that point.
/// Null (the default) costs one relaxed load.
extern std::atomic<void (*)()> suspend_probe;

}  // namespace sim::detail

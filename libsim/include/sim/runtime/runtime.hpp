#pragma once
/// The runtime: one thread, one `boost::asio::io_context`, one Boost.Fiber scheduler (design.md
/// §2).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/future.hpp>
#include <boost/fiber/mutex.hpp>
#include <vector>

#include <boost/context/stack_context.hpp>
#include <boost/fiber/protected_fixedsize_stack.hpp>

#include <sim/core/asio.hpp>

#if defined(__SANITIZE_ADDRESS__)
#define SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_ASAN 1
#endif
#endif
#if defined(SIM_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace sim {

namespace detail {

/// A fiber stack allocator that, under AddressSanitizer, hands out stacks without the poison a
/// previous fiber left on reused memory (Boost.Fiber's switches are invisible to ASan).
#if defined(SIM_ASAN)
/// Registers a fiber stack with libsim's ASan support (runtime.cpp), which cleans a fiber's
/// stack when an exception unwinds it, as ASan does for thread stacks.
void asan_register_stack(void* top, std::size_t size) noexcept;
void asan_unregister_stack(void* top) noexcept;
#endif

/// Fiber stacks of one size, carved from large anonymous mappings and recycled last-in,
/// first-out. Freeing a stack writes nothing into it (Boost's pool links free blocks through
/// their lowest bytes, which makes every freed stack fault in a page nobody used), and the
/// mappings reserve no swap, so a million agents' stacks cost only the pages they touch.
/// One runtime thread uses it.
class stack_pool {
  public:
    explicit stack_pool(std::size_t stack_size);
    ~stack_pool();
    stack_pool(const stack_pool&) = delete;
    stack_pool& operator=(const stack_pool&) = delete;
    boost::context::stack_context allocate();
    void deallocate(boost::context::stack_context& sctx) noexcept;
    std::size_t stack_size() const noexcept { return size_; }

  private:
    std::size_t size_;
    std::vector<void*> free_;  // bottoms of free stacks
    struct chunk {
        void* base;
        std::size_t bytes;
    };
    std::vector<chunk> chunks_;
    char* next_ = nullptr;  // the next never-used stack in the newest chunk
    char* end_ = nullptr;
};

/// What a fiber is given: a share of its runtime's pool (copied into every fiber). Shared,
/// because Boost.Fiber frees the stacks of finished fibers lazily, possibly after the runtime
/// is gone.
class pooled_stack {
  public:
    explicit pooled_stack(std::shared_ptr<stack_pool> pool) noexcept : pool_(std::move(pool)) {}
    boost::context::stack_context allocate() { return pool_->allocate(); }
    void deallocate(boost::context::stack_context& sctx) noexcept { pool_->deallocate(sctx); }

  private:
    std::shared_ptr<stack_pool> pool_;
};

template <class Alloc>
class sanitized_stack {
  public:
    explicit sanitized_stack(std::size_t size) : alloc_(size) {}
    explicit sanitized_stack(Alloc alloc) : alloc_(std::move(alloc)) {}
    boost::context::stack_context allocate() {
        boost::context::stack_context sctx = alloc_.allocate();
#if defined(SIM_ASAN)
        ASAN_UNPOISON_MEMORY_REGION(static_cast<char*>(sctx.sp) - sctx.size, sctx.size);
        asan_register_stack(sctx.sp, sctx.size);
#endif
        return sctx;
    }
    void deallocate(boost::context::stack_context& sctx) noexcept {
#if defined(SIM_ASAN)
        asan_unregister_stack(sctx.sp);
        ASAN_UNPOISON_MEMORY_REGION(static_cast<char*>(sctx.sp) - sctx.size, sctx.size);
#endif
        alloc_.deallocate(sctx);
    }

  private:
    Alloc alloc_;
};

}  // namespace detail

struct runtime_options {
    /// Stack of every fiber. Fixed: a fiber's memory is known in advance (agents are many).
    std::size_t stack_size = 64 * 1024;
    /// Keep polling for I/O this long before blocking in the kernel when no fiber is ready. Off
    /// by default; for latency-critical links to another core or process, where a blocked thread
    /// takes 60-100 us to wake on these VMs. Burns a core while idle.
    std::chrono::microseconds busy_poll{0};
    /// An inaccessible page below each stack, so that an overflow faults at once instead of
    /// corrupting memory. Costs a system call per fiber.
    bool guard_pages = false;
    /// For logs and the thread name.
    std::string name = "sim";
};

/// One thread that runs an io_context together with a fiber scheduler: fibers run in FIFO order;
/// when none is ready the thread polls I/O, and blocks in it when idle. Everything a runtime owns
/// (sockets, channels, agents, timers) lives on its thread and needs no lock. Calls that wait
/// (I/O, replies, sleeps) suspend only the calling fiber.
///
/// Use `run(main)` on the current thread, or `start()` for a thread of its own. `spawn`, `invoke`
/// and `stop` are thread-safe; everything else belongs to the runtime's thread.
class runtime {
  public:
    explicit runtime(runtime_options options = {});
    /// Stops and joins a thread started with `start()`.
    ~runtime();
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;

    /// Runs `main` in a fiber on the calling thread. When it returns the runtime stops (stop hooks
    /// close servers and channels), and `run` returns main's result, or rethrows its exception,
    /// once every fiber spawned on the runtime has finished. Throws `std::logic_error` when the
    /// thread already runs a runtime.
    template <class F>
    std::invoke_result_t<F&> run(F&& main);

    /// Starts the runtime on a new thread and returns; it runs until `stop()`.
    void start();
    /// Makes the calling thread this runtime's thread from now on, without a main fiber: the
    /// thread's own code acts as one, and whenever it waits (a reply, a sleep, `wait_idle`) the
    /// runtime's other fibers and I/O run. Lets `main()` own a container and drive it directly.
    /// Throws `std::logic_error` when the thread already runs a runtime.
    void attach();
    /// Ends what `attach` began: stops the runtime (stop hooks), waits for its fibers to finish,
    /// and gives the thread back. The destructor does it for an attached runtime.
    void detach();
    /// Asks the runtime to stop: run the stop hooks, then end `run`/the thread once every fiber
    /// has finished. Thread-safe and idempotent.
    void stop();
    /// Waits for the thread that `start()` created.
    void join();

    /// Runs `f` in a new fiber on this runtime. From another thread the fiber starts on the
    /// runtime's thread. An exception escaping `f` is logged (`sim.runtime`) and ends only that
    /// fiber. Throws `std::logic_error` once the runtime has stopped.
    template <class F>
    void spawn(F&& f);

    /// Runs `f` in a fiber of this runtime and returns its result (or rethrows its exception).
    /// From a fiber of another runtime only that fiber waits; from a plain thread, the thread.
    template <class F>
    std::invoke_result_t<F&> invoke(F&& f);
    /// As `invoke`, but always in a new fiber, also when called on this runtime's thread (a
    /// thread that attached it waits there while the fiber and I/O run).
    template <class F>
    std::invoke_result_t<F&> run_in_fiber(F&& f);
    /// Runs `f` in a new fiber of this runtime and returns a future of its result (or
    /// exception), so that the caller can wait with a bound (`wait_for`, `wait_until`). `f` is
    /// moved into the fiber and must own what it uses: a caller that stops waiting may be gone
    /// when it runs. Thread-safe.
    template <class F>
    boost::fibers::future<std::invoke_result_t<std::decay_t<F>&>> async(F&& f);

    boost::asio::io_context& io() noexcept { return io_; }
    const runtime_options& options() const noexcept { return options_; }
    /// True once `stop()` was called or `run`'s main returned.
    bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }
    /// Fibers spawned here that have not finished.
    std::size_t fibers() const noexcept { return live_.load(std::memory_order_acquire); }
    /// Whether the calling thread is this runtime's.
    bool on_this_thread() const noexcept { return current() == this; }

    /// Suspends the calling fiber until every other fiber of this runtime is blocked (or done)
    /// and no I/O completion waits to run: the moment the thread would otherwise block.
    /// Runtime thread only.
    void wait_idle();
    /// Suspends the calling fiber until the runtime is asked to stop (true, at once if it was) or
    /// until `until` (false). Runtime thread only (`std::logic_error` otherwise).
    [[nodiscard]] bool wait_for_stop_request(std::chrono::steady_clock::time_point until);
    /// Fibers ready to run, the caller not counted. Runtime thread only.
    std::size_t ready_fibers() const noexcept;

    /// Registers `hook` to run (in a fiber of this runtime) when the runtime stops; servers and
    /// channels close themselves this way. Returns an id for `remove_stop_hook`. Runtime thread
    /// only; a hook added after the stop runs at once.
    std::uint64_t add_stop_hook(std::function<void()> hook);
    void remove_stop_hook(std::uint64_t id) noexcept;

    /// The runtime running on the calling thread, or nullptr.
    static runtime* current() noexcept;

  private:
    struct hooks;
    struct scheduler_link;

    void enter();
    void leave() noexcept;
    void wait_for_fibers();
    void run_stop_hooks();
    void request_stop_here();
    void report(std::exception_ptr e) noexcept;

    template <class F>
    void launch(F&& f);

    runtime_options options_;
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    detail::sanitized_stack<detail::pooled_stack> pooled_stacks_;
    detail::sanitized_stack<boost::fibers::protected_fixedsize_stack> guarded_stacks_;
    std::atomic<std::size_t> live_{0};
    std::atomic<bool> stopping_{false};
    bool stop_requested_ = false;  // runtime thread only
    bool attached_ = false;
    boost::fibers::mutex mutex_;
    boost::fibers::condition_variable changed_;  // a fiber ended, or a stop was requested
    std::unique_ptr<hooks> hooks_;
    std::unique_ptr<scheduler_link> scheduler_;
    std::thread thread_;
};

/// Spawns `f` in a fiber on the runtime of the calling thread. Throws `std::logic_error` when the
/// thread runs none.
template <class F>
void spawn(F&& f);

// ---- implementation ---------------------------------------------------------------------------

template <class F>
void runtime::launch(F&& f) {
    auto body = [this, f = std::forward<F>(f)]() mutable {
        try {
            f();
        } catch (...) {
            report(std::current_exception());
        }
        // Only the last fiber wakes the waiter in run(): waking it for every fiber that ends
        // would cost a context switch each.
        if (live_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            std::unique_lock lock(mutex_);
            changed_.notify_all();
        }
    };
    // launch::post: the new fiber waits its turn in FIFO order instead of preempting the caller.
    if (options_.guard_pages) {
        boost::fibers::fiber(boost::fibers::launch::post, std::allocator_arg, guarded_stacks_,
                             std::move(body))
            .detach();
    } else {
        boost::fibers::fiber(boost::fibers::launch::post, std::allocator_arg, pooled_stacks_,
                             std::move(body))
            .detach();
    }
}

template <class F>
void runtime::spawn(F&& f) {
    if (stopping() && current() != this)
        throw std::logic_error("runtime " + options_.name + " has stopped");
    live_.fetch_add(1, std::memory_order_acq_rel);
    if (current() == this) {
        launch(std::forward<F>(f));
    } else {
        boost::asio::post(io_, [this, f = std::forward<F>(f)]() mutable { launch(std::move(f)); });
    }
}

template <class F>
std::invoke_result_t<F&> runtime::invoke(F&& f) {
    if (current() == this) return f();
    return run_in_fiber(f);
}

namespace detail {
template <class R, class F>
void fulfil(boost::fibers::promise<R>& promise, F& f) noexcept {
    try {
        if constexpr (std::is_void_v<R>) {
            f();
            promise.set_value();
        } else {
            promise.set_value(f());
        }
    } catch (...) {
        promise.set_exception(std::current_exception());
    }
}
}  // namespace detail

template <class F>
std::invoke_result_t<F&> runtime::run_in_fiber(F&& f) {
    using result = std::invoke_result_t<F&>;
    // Futures wake a fiber of any runtime, or a plain thread. The promise is shared: the waiter
    // may return (and unwind its stack) while set_value is still finishing on the other thread.
    auto promise = std::make_shared<boost::fibers::promise<result>>();
    auto future = promise->get_future();
    spawn([promise, &f]() { detail::fulfil(*promise, f); });
    return future.get();
}

template <class F>
boost::fibers::future<std::invoke_result_t<std::decay_t<F>&>> runtime::async(F&& f) {
    using result = std::invoke_result_t<std::decay_t<F>&>;
    auto promise = std::make_shared<boost::fibers::promise<result>>();
    auto future = promise->get_future();
    spawn([promise, f = std::forward<F>(f)]() mutable { detail::fulfil(*promise, f); });
    return future;
}

template <class F>
std::invoke_result_t<F&> runtime::run(F&& main) {
    using result = std::invoke_result_t<F&>;
    enter();
    struct leave_guard {
        runtime* rt;
        ~leave_guard() { rt->leave(); }
    } guard{this};

    std::conditional_t<std::is_void_v<result>, bool, std::optional<result>> value{};
    std::exception_ptr error;
    live_.fetch_add(1, std::memory_order_acq_rel);
    launch([&] {
        try {
            if constexpr (std::is_void_v<result>) {
                main();
            } else {
                value.emplace(main());
            }
        } catch (...) {
            error = std::current_exception();
        }
        request_stop_here();
    });
    wait_for_fibers();
    if (error) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<result>) return std::move(*value);
}

template <class F>
void spawn(F&& f) {
    runtime* rt = runtime::current();
    if (rt == nullptr) throw std::logic_error("sim::spawn: this thread runs no sim::runtime");
    rt->spawn(std::forward<F>(f));
}

}  // namespace sim

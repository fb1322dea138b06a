#pragma once
/// `sim::use_fiber`: an Asio completion token that suspends only the calling fiber.
///
///     std::size_t n = socket.async_read_some(buffer, sim::use_fiber);       // throws
///     std::size_t n = socket.async_read_some(buffer, sim::use_fiber[ec]);   // sets ec
///
/// The I/O object must belong to the io_context of the calling fiber's runtime: completion
/// handlers then run on the same thread, and the wake-up needs no lock.

#include <chrono>
#include <cstddef>
#include <new>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/fiber/context.hpp>

#include <sim/core/asio.hpp>

namespace sim {

struct use_fiber_t {
    /// The error-code form: failures set `ec` instead of throwing.
    struct with_error_code {
        boost::system::error_code* ec;
    };
    constexpr with_error_code operator[](boost::system::error_code& ec) const noexcept {
        return {&ec};
    }
};

inline constexpr use_fiber_t use_fiber{};

namespace detail {

/// Suspends one fiber until `wake()`; both on the same thread.
class fiber_waiter {
  public:
    fiber_waiter() noexcept : ctx_(boost::fibers::context::active()) {}
    fiber_waiter(const fiber_waiter&) = delete;
    fiber_waiter& operator=(const fiber_waiter&) = delete;

    void wait() noexcept {
        while (!done_)
            ctx_->suspend();
    }
    /// Waits until woken (true) or until `deadline` (false). A wake after the deadline is
    /// harmless (also one between the deadline and the fiber running again), but the waiter must
    /// outlive any wake that can still come.
    bool wait_until(std::chrono::steady_clock::time_point deadline) noexcept {
        while (!done_) {
            if (deadline == std::chrono::steady_clock::time_point::max()) {
                ctx_->suspend();
            } else if (!ctx_->wait_until(deadline)) {
                return done_;
            }
        }
        return true;
    }
    /// Ready to wait again.
    void reset() noexcept { done_ = false; }
    void wake() noexcept {
        if (done_) return;
        done_ = true;
        // A timed wait that has just expired is already in the ready queue: scheduling it again
        // would link it twice and lose the fibers behind it.
        if (ctx_->ready_is_linked()) return;
        boost::fibers::context::active()->schedule(ctx_);
    }
    bool done() const noexcept { return done_; }

  private:
    boost::fibers::context* ctx_;
    bool done_ = false;
};

/// Memory for the one operation a waiting fiber has in flight: Asio allocates an operation
/// object per asynchronous call and frees it before the handler runs, so one buffer in the
/// waiter's frame serves every call and Asio needs no malloc.
class handler_memory {
  public:
    handler_memory() = default;
    handler_memory(const handler_memory&) = delete;
    handler_memory& operator=(const handler_memory&) = delete;

    void* allocate(std::size_t n) {
        if (!in_use_ && n <= sizeof storage_) {
            in_use_ = true;
            return storage_;
        }
        return ::operator new(n);
    }
    void deallocate(void* p) noexcept {
        if (p == storage_) {
            in_use_ = false;
        } else {
            ::operator delete(p);
        }
    }

  private:
    alignas(std::max_align_t) unsigned char storage_[512];
    bool in_use_ = false;
};

template <class T>
class handler_allocator {
  public:
    using value_type = T;
    explicit handler_allocator(handler_memory& m) noexcept : memory_(&m) {}
    template <class U>
    handler_allocator(const handler_allocator<U>& other) noexcept : memory_(other.memory_) {}

    T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(n * sizeof(T))); }
    void deallocate(T* p, std::size_t) noexcept { memory_->deallocate(p); }

    template <class U>
    friend bool operator==(const handler_allocator& a, const handler_allocator<U>& b) noexcept {
        return a.memory_ == b.memory_;
    }

  private:
    template <class U>
    friend class handler_allocator;
    handler_memory* memory_;
};

template <class... Args>
struct fiber_result {
    using values = std::tuple<std::decay_t<Args>...>;
    handler_memory memory;
    fiber_waiter waiter;
    boost::system::error_code ec;
    std::optional<values> result;

    auto take() {
        if constexpr (sizeof...(Args) == 0) {
            return;
        } else if constexpr (sizeof...(Args) == 1) {
            return std::get<0>(std::move(*result));
        } else {
            return std::move(*result);
        }
    }
};

template <class... Args>
struct fiber_handler {
    fiber_result<Args...>* state;

    using allocator_type = handler_allocator<void>;
    allocator_type get_allocator() const noexcept { return allocator_type(state->memory); }

    void operator()(boost::system::error_code ec, Args... args) {
        state->ec = ec;
        state->result.emplace(std::move(args)...);
        state->waiter.wake();
    }
};

template <class... Args>
struct fiber_handler_no_error {
    fiber_result<Args...>* state;

    using allocator_type = handler_allocator<void>;
    allocator_type get_allocator() const noexcept { return allocator_type(state->memory); }

    void operator()(Args... args) {
        state->result.emplace(std::move(args)...);
        state->waiter.wake();
    }
};

}  // namespace detail
}  // namespace sim

namespace boost::asio {

template <class... Args>
class async_result<sim::use_fiber_t, void(boost::system::error_code, Args...)> {
  public:
    template <class Initiation, class... InitArgs>
    static auto initiate(Initiation&& init, sim::use_fiber_t, InitArgs&&... args) {
        sim::detail::fiber_result<Args...> state;
        std::forward<Initiation>(init)(sim::detail::fiber_handler<Args...>{&state},
                                       std::forward<InitArgs>(args)...);
        state.waiter.wait();
        if (state.ec) throw boost::system::system_error(state.ec);
        return state.take();
    }
};

template <class... Args>
class async_result<sim::use_fiber_t::with_error_code, void(boost::system::error_code, Args...)> {
  public:
    template <class Initiation, class... InitArgs>
    static auto initiate(Initiation&& init, sim::use_fiber_t::with_error_code token,
                         InitArgs&&... args) {
        sim::detail::fiber_result<Args...> state;
        std::forward<Initiation>(init)(sim::detail::fiber_handler<Args...>{&state},
                                       std::forward<InitArgs>(args)...);
        state.waiter.wait();
        *token.ec = state.ec;
        if constexpr (sizeof...(Args) > 0) {
            // On failure Asio still passes values (e.g. bytes transferred so far).
            return state.take();
        }
    }
};

template <class... Args>
class async_result<sim::use_fiber_t, void(Args...)> {
  public:
    template <class Initiation, class... InitArgs>
    static auto initiate(Initiation&& init, sim::use_fiber_t, InitArgs&&... args) {
        sim::detail::fiber_result<Args...> state;
        std::forward<Initiation>(init)(sim::detail::fiber_handler_no_error<Args...>{&state},
                                       std::forward<InitArgs>(args)...);
        state.waiter.wait();
        return state.take();
    }
};

}  // namespace boost::asio

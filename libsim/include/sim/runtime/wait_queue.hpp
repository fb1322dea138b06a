#pragma once
/// Fibers waiting for something that another fiber of the same runtime makes happen: a reply, a
/// free slot, a connection, quiet. A condition variable without a mutex (the fibers of one
/// runtime never run at the same time), with deadlines, first come first woken. Waiting
/// suspends only the calling fiber.
///
///     sim::wait_queue changed;
///     // a waiter
///     if (!changed.wait_until(deadline, [&] { return ready; })) throw sim::timeout_error("...");
///     // the fiber that makes it so
///     ready = true;
///     changed.notify_all();
///
/// Waiters and notifiers run on the queue's runtime thread; from another thread, post the
/// notification there (`runtime::spawn`). Nothing allocates: each waiter is a node on its own
/// fiber's stack.

#include <chrono>
#include <cstddef>
#include <utility>

#include <sim/runtime/use_fiber.hpp>

namespace sim {

class wait_queue {
  public:
    using clock_type = std::chrono::steady_clock;

    wait_queue() = default;
    wait_queue(const wait_queue&) = delete;
    wait_queue& operator=(const wait_queue&) = delete;
    /// Wakes the fibers still waiting, as `notify_all` does: a queue may go before its waiters
    /// run again (they must not touch it then).
    ~wait_queue() { notify_all(); }

    /// Suspends the calling fiber until a notification picks it.
    void wait() noexcept { (void)wait_until(clock_type::time_point::max()); }
    /// Suspends the calling fiber until a notification picks it (true) or until `deadline`
    /// (false: it has left the queue, and no later notification counts it).
    [[nodiscard]] bool wait_until(clock_type::time_point deadline) noexcept;
    template <class Rep, class Period>
    [[nodiscard]] bool wait_for(std::chrono::duration<Rep, Period> d) noexcept {
        return wait_until(clock_type::now() + d);
    }

    /// Waits until `done()` holds, checking it first and after every wake-up; false when the
    /// deadline comes first (with `done()` still false).
    template <class Pred>
    [[nodiscard]] bool wait_until(clock_type::time_point deadline, Pred done) {
        while (!done()) {
            if (!wait_until(deadline)) return done();
        }
        return true;
    }
    template <class Rep, class Period, class Pred>
    [[nodiscard]] bool wait_for(std::chrono::duration<Rep, Period> d, Pred done) {
        return wait_until(clock_type::now() + d, std::move(done));
    }
    template <class Pred>
    void wait(Pred done) {
        while (!done())
            wait();
    }

    /// Wakes the fiber that has waited longest; false when none waits.
    bool notify_one() noexcept;
    /// Wakes every fiber waiting now (not those that start to wait as they run); returns how
    /// many.
    std::size_t notify_all() noexcept;

    bool empty() const noexcept { return head_ == nullptr; }
    std::size_t size() const noexcept { return size_; }

  private:
    struct node {
        detail::fiber_waiter waiter;
        node* prev = nullptr;
        node* next = nullptr;
    };
    void unlink(node& n) noexcept;

    node* head_ = nullptr;
    node* tail_ = nullptr;
    std::size_t size_ = 0;
};

inline bool wait_queue::wait_until(clock_type::time_point deadline) noexcept {
    node n;
    n.prev = tail_;
    (tail_ != nullptr ? tail_->next : head_) = &n;
    tail_ = &n;
    ++size_;
    // A notification unlinks the node before it wakes the fiber; a deadline leaves it linked.
    if (n.waiter.wait_until(deadline)) return true;
    unlink(n);
    return false;
}

inline void wait_queue::unlink(node& n) noexcept {
    (n.prev != nullptr ? n.prev->next : head_) = n.next;
    (n.next != nullptr ? n.next->prev : tail_) = n.prev;
    n.prev = n.next = nullptr;
    --size_;
}

inline bool wait_queue::notify_one() noexcept {
    node* n = head_;
    if (n == nullptr) return false;
    unlink(*n);
    n->waiter.wake();
    return true;
}

inline std::size_t wait_queue::notify_all() noexcept {
    // Waking schedules a fiber without running it: nobody joins the queue during the loop.
    std::size_t woken = 0;
    while (head_ != nullptr) {
        node* n = head_;
        unlink(*n);
        n->waiter.wake();
        ++woken;
    }
    return woken;
}

}  // namespace sim

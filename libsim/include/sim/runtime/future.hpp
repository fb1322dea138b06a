#pragma once
/// Results that come later: a fiber's result or exception through a future, and waiting for many
/// at once (asyncio's tasks and `gather`).
///
///     std::vector<sim::future<int>> replies;
///     for (auto& peer : peers) replies.push_back(peer.async_call<int>("load"));
///     std::vector<int> loads = sim::when_all(std::move(replies));  // in the order asked
///
/// `future::get()` suspends only the calling fiber (a plain thread blocks), and rethrows the
/// exception that ended the work. `wait_for` and `wait_until` wait with a bound.

#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <boost/fiber/future.hpp>

#include <sim/runtime/runtime.hpp>

namespace sim {

/// Boost.Fiber's future: the standard's interface, waiting as fibers wait.
template <class T>
using future = boost::fibers::future<T>;
template <class T>
using promise = boost::fibers::promise<T>;
using future_status = boost::fibers::future_status;

/// Runs `f` in a new fiber of the calling thread's runtime and returns a future of its result or
/// exception (`runtime::async`). `f` is moved into the fiber and must own what it uses. Throws
/// `std::logic_error` when the thread runs no runtime.
template <class F>
future<std::invoke_result_t<std::decay_t<F>&>> async(F&& f) {
    runtime* rt = runtime::current();
    if (rt == nullptr) throw std::logic_error("sim::async: this thread runs no sim::runtime");
    return rt->async(std::forward<F>(f));
}

namespace detail {
// Waits for one future and keeps its outcome: the value, or the exception to rethrow later.
template <class T>
auto settle(future<T>& f, std::exception_ptr& first_failure) {
    using stored = std::conditional_t<std::is_void_v<T>, std::monostate, std::optional<T>>;
    stored out{};
    try {
        if constexpr (std::is_void_v<T>) {
            f.get();
        } else {
            out.emplace(f.get());
        }
    } catch (...) {
        if (!first_failure) first_failure = std::current_exception();
    }
    return out;
}
}  // namespace detail

/// Waits until every future has settled and returns their results in the order given. If any
/// failed, rethrows the failure of the first of them (in that order) once all have settled, so
/// that no work is still running when the caller handles it. The futures are consumed.
template <class T>
std::vector<T> when_all(std::vector<future<T>> futures) {
    std::exception_ptr failure;
    std::vector<std::optional<T>> settled;
    settled.reserve(futures.size());
    for (auto& f : futures)
        settled.push_back(detail::settle(f, failure));
    if (failure) std::rethrow_exception(failure);
    std::vector<T> results;
    results.reserve(settled.size());
    for (auto& r : settled)
        results.push_back(std::move(*r));
    return results;
}

/// As above, for work without a result.
inline void when_all(std::vector<future<void>> futures) {
    std::exception_ptr failure;
    for (auto& f : futures)
        (void)detail::settle(f, failure);
    if (failure) std::rethrow_exception(failure);
}

/// Waits for futures of different types: `auto [a, b] = when_all(f1, f2);`. A `future<void>`
/// gives `std::monostate`.
template <class... T>
requires(sizeof...(T) > 0) auto when_all(future<T>&&... futures) {
    std::exception_ptr failure;
    // Braces: the futures are settled left to right.
    std::tuple<decltype(detail::settle(futures, failure))...> settled{
        detail::settle(futures, failure)...};
    if (failure) std::rethrow_exception(failure);
    return std::apply(
        [](auto&... s) {
            auto take = [](auto& x) {
                if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::monostate>) {
                    return x;
                } else {
                    return std::move(*x);
                }
            };
            return std::make_tuple(take(s)...);
        },
        settled);
}

}  // namespace sim

#pragma once
/// Sleeping in a fiber on the runtime's real clock, outside any agent: a handler that answers
/// after a while, a client that retries, a periodic task of a server. (An agent sleeps on its
/// container's clock instead, `agent::clock()`, which may be virtual.)
///
///     router.expose("slow_echo", [](std::string s) {
///         sim::sleep_for(std::chrono::milliseconds(500));  // other fibers and I/O run meanwhile
///         return s;
///     });

#include <chrono>

namespace sim {

/// Suspends the calling fiber for `d` of steady (monotonic) time; the runtime's other fibers and
/// its I/O run meanwhile. Throws `sim::cancelled` when the runtime is asked to stop first (or
/// already was), so that a long sleep never holds up the end of `runtime::run`. Throws
/// `std::logic_error` on a thread that runs no runtime.
void sleep_for(std::chrono::steady_clock::duration d);
/// As `sleep_for`, until `t`.
void sleep_until(std::chrono::steady_clock::time_point t);

}  // namespace sim

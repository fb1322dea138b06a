#pragma once
/// Serving until the process is told to stop: a process that holds servers and containers waits
/// here, then returns from its runtime's main, which closes every server and connection (pending
/// calls fail with `sim::connection_closed`) before `runtime::run` returns.
///
///     int main() {
///         sim::runtime rt;
///         rt.run([] {
///             auto server = sim::rpc::start_server("tcp://0.0.0.0:5555", root);
///             sim::container agents("tcp://0.0.0.0:5556");
///             agents.spawn<sim::manager>(types);
///             sim::wait_for_stop();  // Ctrl-C, SIGTERM, or the manager's stop()
///         });
///         return 0;
///     }

#include <csignal>
#include <initializer_list>

namespace sim {

/// Suspends the calling fiber until one of `signals` arrives or the runtime is asked to stop
/// (`runtime::stop()`, which a manager agent's `stop()` calls). Returns the signal's number, or 0
/// for a stop request. While it waits, those signals do not end the process. Runtime thread only
/// (`std::logic_error` otherwise).
int wait_for_stop(std::initializer_list<int> signals = {SIGINT, SIGTERM});

}  // namespace sim

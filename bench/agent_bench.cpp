// Agent benchmarks: calls between agents, stepping a container over RPC from another process,
// and waking many agents, each beside its floor measured in the same run.
//
//   agent/call/shortcut          one thread. An agent calls `add(1)` of another agent of the same
//                                container through its proxy (the same-container shortcut: no
//                                codec, no socket; the callee runs in a fiber of its own).
//                                Floor: a round trip between two fibers of the same runtime
//                                (yield to a partner and back: two switches), measured in the
//                                same runtime just before.
//   agent/call/unix              one thread: both containers in one runtime. The same call to an
//                                agent of another container over a Unix socket (json codec).
//                                Floor: the raw Asio ping-pong of a 64-byte frame over a Unix
//                                socket on one thread (floor/asio-pingpong/unix).
//   agent/call/unix/two-threads  the callee's container on a thread of its own; the floor is the
//                                same one-thread raw ping-pong (waking the other core is the
//                                difference the ratio shows).
//   agent/step/rpc/pinned        two processes pinned to one core (sched_setaffinity, as taskset
//                                does; the child inherits it). A child process runs a container
//                                with one agent that sleeps one time unit at a time; this process
//                                calls `clock/step(t)` for t = 1, 2, ... over TCP loopback and
//                                checks each answer (the next event, t + 1). Floor: a blocking
//                                64-byte ping-pong with a raw echo child, pinned the same way.
//   agent/step/rpc/busy-poll     unpinned, both runtimes busy-polling for 50 us before they
//                                block; the floor's two ends spin on non-blocking sockets.
//   agent/wake/{10000,1000000}   one thread. N agents (16 KiB stacks) each sleep one time unit
//                                per step; one iteration is one container.step(t) that wakes all
//                                N. ns_per_wake = step time / N. Floor: N fibers of a runtime
//                                with the same stacks, each yielding in turn (the cost of
//                                resuming N fibers, cache misses included), per yield.
//                                rss_per_agent_kib = resident memory added by spawning the N
//                                agents and running one step, per agent.

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/fiber/operations.hpp>

#include <sim/agent/agent.hpp>
#include <sim/agent/container.hpp>
#include <sim/agent/manager.hpp>
#include <sim/agent/registry.hpp>
#include <sim/rpc/connection.hpp>
#include <sim/runtime/runtime.hpp>

#include "asio_floor.hpp"
#include "bench_support.hpp"
#include "net_support.hpp"
#include "process_support.hpp"

extern char** environ;

namespace {

using sim::bench::bench_clock;
using sim::bench::busy_poll_us;
using sim::bench::child;
using sim::bench::floor_ns_per_op;
using sim::bench::ns_per_iteration;
using sim::bench::pinned;
using sim::bench::raw_floor_key;
using sim::bench::raw_ns_per_round_trip;
using sim::bench::raw_remote_pingpong;
using sim::bench::temp_dir;
using sim::bench::transport;

// ---- agents ------------------------------------------------------------------------------------

class adder : public sim::agent {
  public:
    explicit adder(sim::container& c) : agent(c) {
        expose("add", [this](std::int64_t k) { return n += k; });
    }
    std::int64_t n = 0;
};

// Sleeps one time unit at a time, forever.
class sleeper : public sim::agent {
  public:
    explicit sleeper(sim::container& c) : agent(c) {
        start([this] {
            for (;;) {
                clock().sleep_for(1);
                ++wakes;
            }
        });
    }
    std::uint64_t wakes = 0;
};

sim::container_options virtual_container() {
    sim::container_options o;
    o.clock = sim::virtual_time{};
    return o;
}

// ---- calls between agents ----------------------------------------------------------------------

// ns per round trip between this fiber and a partner yielding back: the least a call to another
// fiber and back can cost.
double fiber_round_trip_ns() {
    bool stop = false, done = false;
    sim::spawn([&] {
        while (!stop)
            boost::this_fiber::yield();
        done = true;
    });
    boost::this_fiber::yield();
    double best = std::numeric_limits<double>::infinity();
    for (int round = 0; round < 5; ++round) {
        constexpr int n = 200'000;
        auto start = bench_clock::now();
        for (int i = 0; i < n; ++i)
            boost::this_fiber::yield();
        best = std::min(best, ns_per_iteration(bench_clock::now() - start, n));
    }
    stop = true;
    while (!done)
        boost::this_fiber::yield();
    return best;
}

// ns per `add(1)` through `p`, after 1,000 calls of warm-up.
double time_adds(benchmark::State& state, const sim::proxy& p) {
    for (int i = 0; i < 1000; ++i)
        p.call<std::int64_t>("add", 1);
    const auto start = bench_clock::now();
    for (auto _ : state)
        benchmark::DoNotOptimize(p.call<std::int64_t>("add", 1));
    return ns_per_iteration(bench_clock::now() - start, state.iterations());
}

void agent_call_shortcut(benchmark::State& state) {
    double ours = 0, floor = 0;
    sim::runtime rt;
    rt.run([&] {
        floor = fiber_round_trip_ns();
        sim::container c("local://bench-shortcut", virtual_container());
        auto& callee = c.spawn<adder>();
        auto& caller = c.spawn<adder>();
        auto p = caller.connect(callee.address());
        ours = time_adds(state, p);
        if (callee.n != static_cast<std::int64_t>(state.iterations()) + 1000)
            state.SkipWithError("the callee missed calls");
    });
    sim::bench::report_floor(state, ours, "fiber round trip (two yields)", floor);
    state.SetLabel("one thread; floor=fiber round trip (two yields, same runtime)");
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void agent_call_unix(benchmark::State& state, bool two_threads) {
    const double raw = raw_ns_per_round_trip(transport::unix_socket);
    const temp_dir dir;
    const std::string callee_at = "ipc://[" + (dir.path() / "b.sock").string() + "]";
    double ours = 0;
    std::string error;
    std::unique_ptr<sim::container_thread> other;
    std::string target;
    if (two_threads) {
        other = std::make_unique<sim::container_thread>(callee_at);
        target = other->invoke([](sim::container& c) { return c.spawn<adder>().address(); });
    }
    try {
        sim::runtime rt;
        rt.run([&] {
            std::optional<sim::container> b;
            if (!two_threads) {
                b.emplace(callee_at);
                target = b->spawn<adder>().address();
            }
            sim::container a("ipc://[" + (dir.path() / "a.sock").string() + "]");
            auto& caller = a.spawn<adder>();
            auto p = caller.connect(target);
            ours = time_adds(state, p);
        });
    } catch (const std::exception& e) {
        error = e.what();
    }
    other.reset();
    if (!error.empty()) return state.SkipWithError(error.c_str());
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.counters["ratio_to_raw"] = raw / ours;
    state.counters["raw_ns"] = raw;
    state.SetLabel(std::string(two_threads ? "two threads: caller and callee containers"
                                           : "one thread: both containers") +
                   "; json; raw=" + raw_floor_key(transport::unix_socket));
}

// ---- stepping over RPC from another process ----------------------------------------------------

void agent_step_rpc(benchmark::State& state, bool pin) {
    pinned p(pin);
    // The floor, pinned the same way; measured afresh for each variant.
    double floor = 0;
    {
        raw_remote_pingpong raw(!pin);
        floor = raw.check().empty()
                    ? sim::bench::measure_ns_per_op(raw, std::chrono::milliseconds(500))
                    : std::numeric_limits<double>::quiet_NaN();
    }
    child c("container", pin ? 0 : busy_poll_us);
    double ours = 0;
    std::string error;
    try {
        sim::runtime rt({.busy_poll = std::chrono::microseconds(pin ? 0 : busy_poll_us)});
        rt.run([&] {
            std::string url = c.where();
            while (url.ends_with('/'))
                url.pop_back();
            auto conn = sim::rpc::open_connection(url);
            auto clock = conn.remote()["clock"];
            std::int64_t t = 0;
            auto step = [&] {
                ++t;
                if (clock.call<std::int64_t>("step", t) != t + 1) error = "a wrong next event";
            };
            for (int i = 0; i < 2000; ++i)
                step();
            auto start = bench_clock::now();
            for (auto _ : state)
                step();
            ours = ns_per_iteration(bench_clock::now() - start, state.iterations());
            conn.remote().call("agents/0/stop");
        });
    } catch (const std::exception& e) {
        error = e.what();
    }
    if (!error.empty()) return state.SkipWithError(error.c_str());
    sim::bench::report_floor(
        state, ours, pin ? "raw blocking ping-pong, pinned" : "raw spinning ping-pong", floor);
    state.counters["steps_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    state.SetLabel(std::string(pin ? "two processes pinned to one core"
                                   : "two processes, unpinned, busy-poll 50 us") +
                   "; TCP loopback, json; floor=raw 64-byte ping-pong with a child");
}

// ---- waking many agents ------------------------------------------------------------------------

constexpr std::size_t wake_stack = 16 * 1024;

std::size_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// ns per resume of one of `n` fibers yielding in turn.
double yield_ring_ns(std::size_t n) {
    double ns = 0;
    sim::runtime rt({.stack_size = wake_stack});
    rt.run([&] {
        bool stop = false;
        std::size_t running = n;
        std::uint64_t yields = 0;
        for (std::size_t i = 0; i < n; ++i) {
            sim::spawn([&] {
                while (!stop) {
                    ++yields;
                    boost::this_fiber::yield();
                }
                --running;
            });
        }
        boost::this_fiber::yield();  // every fiber has started
        const std::uint64_t rounds = std::max<std::uint64_t>(3, 2'000'000 / n);
        yields = 0;
        auto start = bench_clock::now();
        for (std::uint64_t r = 0; r < rounds; ++r)
            boost::this_fiber::yield();
        ns = std::chrono::duration<double, std::nano>(bench_clock::now() - start).count() /
             static_cast<double>(yields);
        stop = true;
        while (running > 0)
            boost::this_fiber::yield();
    });
    return ns;
}

void agent_wake(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const double floor = yield_ring_ns(n);
    double ours = 0, rss_per_agent = 0;
    std::uint64_t woken = 0;
    sim::runtime rt({.stack_size = wake_stack});
    rt.run([&] {
        sim::container c("local://bench-wake", virtual_container());
        const std::size_t before = resident_bytes();
        std::vector<sleeper*> agents;
        agents.reserve(n);
        for (std::size_t i = 0; i < n; ++i)
            agents.push_back(&c.spawn<sleeper>());
        double t = 0;
        c.step(t);
        rss_per_agent = static_cast<double>(resident_bytes() - before) / static_cast<double>(n);
        c.step(++t);  // warm
        auto start = bench_clock::now();
        for (auto _ : state)
            c.step(++t);
        ours = ns_per_iteration(bench_clock::now() - start, state.iterations()) /
               static_cast<double>(n);
        for (auto* a : agents)
            woken += a->wakes;
        if (woken != n * (static_cast<std::uint64_t>(t)))
            state.SkipWithError("an agent missed a step");
    });
    sim::bench::report_floor(state, ours, "fiber yield ring of N", floor);
    state.counters["ns_per_wake"] = ours;
    state.counters["rss_per_agent_kib"] = rss_per_agent / 1024;
    state.counters["wakes_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(n),
                           benchmark::Counter::kIsRate);
    state.SetLabel("one thread; 16 KiB stacks; floor=N fibers yielding in turn");
}

[[maybe_unused]] const bool registered = [] {
    using benchmark::RegisterBenchmark;
    RegisterBenchmark("agent/call/shortcut", agent_call_shortcut)->UseRealTime();
    RegisterBenchmark("agent/call/unix", [](benchmark::State& s) {
        agent_call_unix(s, false);
    })->UseRealTime();
    RegisterBenchmark("agent/call/unix/two-threads", [](benchmark::State& s) {
        agent_call_unix(s, true);
    })->UseRealTime();
    RegisterBenchmark("agent/step/rpc/pinned", [](benchmark::State& s) {
        agent_step_rpc(s, true);
    })->UseRealTime();
    RegisterBenchmark("agent/step/rpc/busy-poll", [](benchmark::State& s) {
        agent_step_rpc(s, false);
    })->UseRealTime();
    RegisterBenchmark("agent/wake", agent_wake)
        ->Arg(10'000)
        ->Arg(1'000'000)
        ->Iterations(20)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    return true;
}();

}  // namespace

// ---- the child processes -----------------------------------------------------------------------

namespace sim::bench {

int agent_child_main(int argc, char** argv) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the benchmark
    if (argc < 4) return 2;
    const std::string mode = argv[2];
    const int busy_us = std::stoi(argv[3]);
    if (mode == "echo") return serve_raw_echo(busy_us > 0);
    static const sim::agent_registry none;
    sim::runtime rt({.busy_poll = std::chrono::microseconds(busy_us)});
    rt.run([&] {
        sim::container c("tcp://127.0.0.1:0", virtual_container());
        c.spawn<sim::manager>(none);
        c.spawn<sleeper>();
        std::cout << c.base_url() << std::endl;
        c.run();
    });
    return 0;
}

}  // namespace sim::bench

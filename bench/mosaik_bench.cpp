// mosaik adapter benchmarks: a C++ master (this process) drives example-sim, the tutorial's
// simulator built on sim::mosaik, in another process over TCP loopback, as mosaik drives a
// simulator; beside the floor of a round trip between two processes in the same run.
//
//   mosaik/example-sim/step/pinned     both processes pinned to one core (the child inherits
//                                      the affinity). One iteration: step(t, inputs, max_advance)
//                                      with one input for one entity, answered with t + 1.
//                                      Floor: a blocking 64-byte ping-pong with an echo child,
//                                      pinned the same way.
//   mosaik/example-sim/step/two-cores  unpinned, blocking I/O at both ends (example-sim does not
//                                      busy-poll): waking the other core on every message.
//   mosaik/example-sim/step/busy-poll  unpinned, both ends polling for 50 us before blocking (the
//                                      simulator through SIM_BUSY_POLL_US=50); the floor's ends
//                                      spin on non-blocking sockets.
//   mosaik/example-sim/step+get_data/pinned
//                                      step, then get_data of the entity's val: what mosaik sends
//                                      a simulator whose output is connected.
//   mosaik/agents-sim/step/1000-agents/pinned
//                                      agents-sim (a libsim container through
//                                      container_simulator): an aggregator and 999 households that
//                                      each wake every 900 s and report to the aggregator. One
//                                      iteration: step(t) to the next 15 minutes (999 wake-ups
//                                      and 999 calls inside the container) and get_data of the
//                                      aggregator's total. Pinned as above; same floor.
// The master uses sim::channel with the json codec, as mosaik's frames are JSON.

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>

#include <benchmark/benchmark.h>

#include <sim/channel/channel.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/transport/stream.hpp>

#include "bench_support.hpp"
#include "process_support.hpp"

namespace {

using sim::value;
using sim::bench::bench_clock;
using sim::bench::child;
using sim::bench::ns_per_iteration;
using sim::bench::pinned;
using sim::bench::raw_remote_pingpong;

value call(const std::string& name, sim::array args, sim::map kwargs = {}) {
    return value(sim::array{value(name), value(std::move(args)), value(std::move(kwargs))});
}

// A simulator process listening (--remote) on a port that was free a moment ago, and the
// master's connection to it. Made in a fiber of the master's runtime.
struct remote_simulator {
    static std::string free_address() {
        auto probe = sim::listen_on(sim::address::tcp("127.0.0.1", 0), {});
        return "127.0.0.1:" + std::to_string(probe->local_address().port);
    }
    explicit remote_simulator(const char* exe)
        : at(free_address()),
          process({exe, "--remote", "-l", "error", at}, false),
          ch(sim::open_connection(
              "tcp://" + at, json(),
              sim::connect_options{.timeout = std::chrono::seconds(10),
                                   .first_delay = std::chrono::milliseconds(5)})) {}
    static sim::channel_options json() {
        sim::channel_options o;
        o.codec = "json";
        return o;
    }
    std::string at;
    child process;
    sim::channel ch;
};

// The floor: a raw ping-pong with an echo child, under the caller's pinning.
double floor_ns(bool spin) {
    raw_remote_pingpong raw(spin);
    if (!raw.check().empty()) return std::numeric_limits<double>::quiet_NaN();
    return sim::bench::measure_ns_per_op(raw, std::chrono::milliseconds(500));
}

void mosaik_steps(benchmark::State& state, bool pin, bool with_get_data, bool busy = false) {
    pinned p(pin);
    // The simulator reads SIM_BUSY_POLL_US; this process polls as long.
    if (busy) ::setenv("SIM_BUSY_POLL_US", "50", 1);
    const double floor = floor_ns(busy);
    double ours = 0;
    std::string error;
    try {
        sim::runtime rt({.busy_poll = std::chrono::microseconds(busy ? 50 : 0)});
        rt.run([&] {
            remote_simulator remote(SIM_EXAMPLE_SIM_EXE);
            sim::channel& ch = remote.ch;
            ch.send(call("init", {value("ExampleSim-0")},
                         sim::map{{value("time_resolution"), value(1.0)}}));
            ch.send(call("create", {value(1), value("ExampleModel")},
                         sim::map{{value("init_val"), value(0)}}));
            ch.send(call("setup_done", {}));
            const value inputs = value(
                sim::map{{value("Model_0"),
                          value(sim::map{
                              {value("delta"), value(sim::map{{value("Ctrl-0.c"), value(1)}})}})}});
            const value wanted =
                value(sim::map{{value("Model_0"), value(sim::array{value("val")})}});
            std::int64_t t = 0;
            auto step = [&] {
                if (ch.send(call("step", {value(t), inputs, value(t + 10)})) != value(t + 1))
                    error = "a wrong next step";
                ++t;
                if (with_get_data) benchmark::DoNotOptimize(ch.send(call("get_data", {wanted})));
            };
            for (int i = 0; i < 1000; ++i)
                step();
            const auto start = bench_clock::now();
            for (auto _ : state)
                step();
            ours = ns_per_iteration(bench_clock::now() - start, state.iterations());
            // stop has no answer: the simulator exits; the child's destructor reaps it.
            ch.close();
        });
    } catch (const std::exception& e) {
        error = e.what();
    }
    ::unsetenv("SIM_BUSY_POLL_US");
    if (!error.empty()) return state.SkipWithError(error.c_str());
    sim::bench::report_floor(state, ours,
                             busy  ? "raw spinning ping-pong"
                             : pin ? "raw blocking ping-pong, pinned"
                                   : "raw blocking ping-pong",
                             floor);
    state.counters["steps_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    state.SetLabel(std::string(busy  ? "two processes, two cores, both busy-polling 50 us"
                               : pin ? "two processes pinned to one core"
                                     : "two processes, two cores") +
                   "; TCP loopback, json; floor=raw 64-byte ping-pong with a child" +
                   (with_get_data ? "; two round trips per iteration" : ""));
}

void mosaik_agents(benchmark::State& state) {
    pinned p(true);
    const double floor = floor_ns(false);
    double ours = 0;
    std::string error;
    try {
        sim::runtime rt;
        rt.run([&] {
            remote_simulator remote(SIM_AGENTS_SIM_EXE);
            sim::channel& ch = remote.ch;
            ch.send(call("init", {value("Agents-0")},
                         sim::map{{value("time_resolution"), value(1.0)}}));
            value agg = ch.send(call("create", {value(1), value("Aggregator")}));
            ch.send(call("create", {value(999), value("Household")},
                         sim::map{{value("aggregator"), agg[0]["extra_info"]["address"]}}));
            ch.send(call("setup_done", {}));
            const value wanted =
                value(sim::map{{value("0"), value(sim::array{value("total_kw")})}});
            std::int64_t t = 0;
            auto step = [&] {
                value next =
                    ch.send(call("step", {value(t), value(sim::map{}), value(t + 100000)}));
                t = next.as<std::int64_t>();
                benchmark::DoNotOptimize(ch.send(call("get_data", {wanted})));
            };
            for (int i = 0; i < 20; ++i)
                step();
            const auto start = bench_clock::now();
            for (auto _ : state)
                step();
            ours = ns_per_iteration(bench_clock::now() - start, state.iterations());
            ch.close();
        });
    } catch (const std::exception& e) {
        error = e.what();
    }
    if (!error.empty()) return state.SkipWithError(error.c_str());
    sim::bench::report_floor(state, ours, "raw blocking ping-pong, pinned", floor);
    state.counters["steps_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["ns_per_agent_step"] = ours / 1000;
    state.SetLabel(
        "two processes pinned to one core; TCP loopback, json; 1,000 agents; step + get_data");
}

[[maybe_unused]] const bool registered = [] {
    using benchmark::RegisterBenchmark;
    RegisterBenchmark("mosaik/example-sim/step/pinned", [](benchmark::State& s) {
        mosaik_steps(s, true, false);
    })->UseRealTime();
    RegisterBenchmark("mosaik/example-sim/step/two-cores", [](benchmark::State& s) {
        mosaik_steps(s, false, false);
    })->UseRealTime();
    RegisterBenchmark("mosaik/example-sim/step+get_data/pinned", [](benchmark::State& s) {
        mosaik_steps(s, true, true);
    })->UseRealTime();
    RegisterBenchmark("mosaik/example-sim/step/busy-poll", [](benchmark::State& s) {
        mosaik_steps(s, false, false, true);
    })->UseRealTime();
    RegisterBenchmark("mosaik/agents-sim/step/1000-agents/pinned", mosaik_agents)->UseRealTime();
    return true;
}();

}  // namespace

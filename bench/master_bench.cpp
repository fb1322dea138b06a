// Benchmarks of libsim's mosaik master (sim::mosaik::world, what `sim-runner` runs for a
// scenario's `mosaik:` section), each beside its floor in the same run. One iteration is a whole
// `world.run()` (setup, process starts and connections excluded: manual time covers `run` only).
//
//   master/plugin/1-sim                one trivial time-based C++ simulator in the master's
//                                      process (as `plugin:` runs it), stepped until 200,000.
//                                      Floor: the same simulator's `step` called directly in a
//                                      loop (no master). One thread: master and simulator share it.
//   master/plugin/event-chain/until:N  a time-based source and four event-based relays in a chain
//                                      (each relay steps when its input changes), in-process,
//                                      until N = 250 ... 10,000. The figure to read is ns_per_step
//                                      across N: flat means the master's work per step does not
//                                      grow with the run's length. Floor: the five simulators'
//                                      step and get_data called directly, per time step.
//   master/tcp/1-sim/pinned            example-sim (the bundled C++ simulator) in another process
//                                      over TCP loopback, both processes pinned to one core,
//                                      until 20,000. Floor: a blocking 64-byte ping-pong with an
//                                      echo child, pinned the same way; ratio_to_floor < 1.25
//                                      means the master reaches 0.8x a raw ping-pong.
//                                      master_cpu_ns_per_step: the master process's CPU time
//                                      (user + system, all its threads) per step.
//   master/tcp/1-sim/two-cores         the same unpinned: each message wakes the other core.
//   master/tcp/chain-of-10/two-cores   ten example-sim processes in a chain (val -> delta),
//                                      until 2,000, on the machine's two cores. time_steps_per_s
//                                      beside mosaik 3.3.3's rate with the same ten processes
//                                      measured on these machines (about 530/s): x_mosaik.
//                                      Floor: the calls one time step needs (10 steps, 9 get_data)
//                                      as that many sequential raw ping-pongs; steps of
//                                      independent simulators overlap and get_data goes out
//                                      behind step, so the ratio may be < 1.
//   master/tcp/chain-of-10/pinned      the same with all eleven processes on one core.

#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <sim/mosaik/local_simulator.hpp>
#include <sim/mosaik/remote_simulator.hpp>
#include <sim/mosaik/simulator.hpp>
#include <sim/mosaik/world.hpp>
#include <sim/runtime/runtime.hpp>

#include "bench_support.hpp"
#include "process_support.hpp"

namespace {

using sim::value;
using sim::bench::bench_clock;
using sim::bench::pinned;
using sim::bench::raw_remote_pingpong;
namespace mosaik = sim::mosaik;

// `num` entities named `prefix` and a number.
std::vector<mosaik::entity> made(int num, const std::string& prefix, const std::string& model) {
    std::vector<mosaik::entity> out;
    for (int i = 0; i < num; ++i)
        out.push_back({prefix + std::to_string(i), model, {}, {}, {}});
    return out;
}

// Time-based: one entity whose `val` counts its steps.
class counter_sim : public mosaik::simulator {
  public:
    mosaik::meta meta() const override {
        mosaik::meta m;
        m.type = mosaik::sim_type::time_based;
        m.models["Counter"] = {.attrs = {"val"}};
        return m;
    }
    std::vector<mosaik::entity> create(int num, const std::string& model,
                                       const sim::map&) override {
        return made(num, "C", model);
    }
    std::optional<std::int64_t> step(std::int64_t time, const mosaik::inputs&,
                                     std::int64_t) override {
        ++val_;
        return time + 1;
    }
    value get_data(const mosaik::outputs&) override {
        return value(sim::map{{value("C0"), value(sim::map{{value("val"), value(val_)}})}});
    }

  private:
    std::int64_t val_ = 0;
};

// Event-based: steps when `in` arrives; `out` is the sum of what came.
class relay_sim : public mosaik::simulator {
  public:
    mosaik::meta meta() const override {
        mosaik::meta m;
        m.type = mosaik::sim_type::event_based;
        m.models["Relay"] = {.attrs = {"in", "out"}};
        return m;
    }
    std::vector<mosaik::entity> create(int num, const std::string& model,
                                       const sim::map&) override {
        return made(num, "R", model);
    }
    std::optional<std::int64_t> step(std::int64_t, const mosaik::inputs& in,
                                     std::int64_t) override {
        if (auto e = in.find("R0"); e != in.end()) {
            if (auto a = e->second.find("in"); a != e->second.end()) {
                out_ = 0;
                for (const auto& [src, v] : a->second)
                    out_ += v.as<std::int64_t>();
            }
        }
        return std::nullopt;
    }
    value get_data(const mosaik::outputs&) override {
        return value(sim::map{{value("R0"), value(sim::map{{value("out"), value(out_)}})}});
    }

  private:
    std::int64_t out_ = 0;
};

// This process's CPU time (all its threads): user (its own work) and user + system (with the
// kernel's work for its I/O and its wake-ups).
struct cpu_times {
    double user = 0, total = 0;
};
cpu_times cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6; };
    return {s(u.ru_utime), s(u.ru_utime) + s(u.ru_stime)};
}

struct run_figures {
    double wall_s = 0;
    double cpu_s = 0;
    double user_s = 0;
    std::uint64_t steps = 0;
};

// Times `w.run()` only.
run_figures timed_run(mosaik::world& w) {
    const cpu_times cpu0 = cpu_seconds();
    const auto start = bench_clock::now();
    w.run();
    run_figures f;
    f.wall_s = std::chrono::duration<double>(bench_clock::now() - start).count();
    const cpu_times cpu1 = cpu_seconds();
    f.cpu_s = cpu1.total - cpu0.total;
    f.user_s = cpu1.user - cpu0.user;
    for (const auto& [sid, n] : w.steps_by_simulator())
        f.steps += n;
    return f;
}

mosaik::world_options fast(std::int64_t until) {
    return {.until = until, .record_graph = false};
}

// Runs one world per iteration (made by `make`, untimed) and reports ns per step.
template <class Make>
run_figures iterate_worlds(benchmark::State& state, Make make, std::string& error) {
    run_figures total;
    for (auto _ : state) {
        try {
            auto w = make();
            const run_figures f = timed_run(*w);
            state.SetIterationTime(f.wall_s);
            total.wall_s += f.wall_s;
            total.cpu_s += f.cpu_s;
            total.user_s += f.user_s;
            total.steps += f.steps;
        } catch (const std::exception& e) {
            error = e.what();
            state.SetIterationTime(1);
        }
    }
    return total;
}

double ns_per(double seconds, std::uint64_t n) {
    return n == 0 ? std::numeric_limits<double>::quiet_NaN()
                  : seconds * 1e9 / static_cast<double>(n);
}

void plugin_one(benchmark::State& state) {
    constexpr std::int64_t until = 200'000;
    counter_sim direct;
    const mosaik::inputs none;
    std::int64_t t = 0;
    struct direct_op {
        counter_sim& sim;
        const mosaik::inputs& in;
        std::int64_t& t;
        SIM_BENCH_OP void operator()() {
            benchmark::DoNotOptimize(sim.step(t, in, t + 10));
            ++t;
        }
        std::string check() { return {}; }
    } op{direct, none, t};
    const double floor = sim::bench::measure_ns_per_op(op);
    std::string error;
    const run_figures f = iterate_worlds(
        state,
        [] {
            auto w = std::make_unique<mosaik::world>(fast(until));
            w->start("Counter-0", std::make_unique<mosaik::local_simulator>(
                                      "Counter-0", std::make_unique<counter_sim>()));
            w->create("Counter-0", 1, "Counter");
            return w;
        },
        error);
    if (!error.empty()) return state.SkipWithError(error.c_str());
    sim::bench::report_floor(state, ns_per(f.wall_s, f.steps), "counter_sim::step called directly",
                             floor);
    state.counters["steps_per_s"] = static_cast<double>(f.steps) / f.wall_s;
    state.SetLabel("one thread (master and simulator); floor=counter_sim::step called directly");
}

// The event chain: Src (time-based) -> R1 -> R2 -> R3 -> R4 (event-based).
void plugin_event_chain(benchmark::State& state) {
    const std::int64_t until = state.range(0);
    constexpr int relays = 4;
    counter_sim src;
    std::vector<relay_sim> chain(relays);
    const mosaik::inputs none;
    mosaik::inputs in{{"R0", {{"in", {{"X.y", value(1)}}}}}};
    const mosaik::outputs want_val{{"C0", {"val"}}};
    const mosaik::outputs want_out{{"R0", {"out"}}};
    std::int64_t t = 0;
    struct direct_op {
        counter_sim& src;
        std::vector<relay_sim>& chain;
        const mosaik::inputs& none;
        mosaik::inputs& in;
        const mosaik::outputs& want_val;
        const mosaik::outputs& want_out;
        std::int64_t& t;
        SIM_BENCH_OP void operator()() {
            benchmark::DoNotOptimize(src.step(t, none, t));
            benchmark::DoNotOptimize(src.get_data(want_val));
            for (auto& r : chain) {
                benchmark::DoNotOptimize(r.step(t, in, t));
                benchmark::DoNotOptimize(r.get_data(want_out));
            }
            ++t;
        }
    } op{src, chain, none, in, want_val, want_out, t};
    const double floor = sim::bench::measure_ns_per_op(op);
    std::string error;
    const run_figures f = iterate_worlds(
        state,
        [until] {
            auto w = std::make_unique<mosaik::world>(fast(until));
            auto local = [](const std::string& sid, std::unique_ptr<mosaik::simulator> s) {
                return std::make_unique<mosaik::local_simulator>(sid, std::move(s));
            };
            w->start("Src", local("Src", std::make_unique<counter_sim>()));
            w->create("Src", 1, "Counter");
            std::string from = "Src.C0", attr = "val";
            for (int i = 1; i <= relays; ++i) {
                const std::string sid = "R" + std::to_string(i);
                w->start(sid, local(sid, std::make_unique<relay_sim>()));
                w->create(sid, 1, "Relay");
                w->connect(from, sid + ".R0", {{attr, "in"}});
                from = sid + ".R0";
                attr = "out";
            }
            return w;
        },
        error);
    if (!error.empty()) return state.SkipWithError(error.c_str());
    // Per time step: one step of each of the five simulators.
    const double time_steps = static_cast<double>(f.steps) / (relays + 1);
    sim::bench::report_floor(state, f.wall_s * 1e9 / time_steps,
                             "the five simulators' step + get_data called directly", floor);
    state.counters["ns_per_step"] = ns_per(f.wall_s, f.steps);
    state.counters["steps"] =
        static_cast<double>(f.steps) / static_cast<double>(state.iterations());
    state.SetLabel(
        "one thread (master and simulators); floor=the five simulators' step + "
        "get_data called directly");
}

std::string example_sim_command() {
    return std::string(SIM_EXAMPLE_SIM_EXE) + " -l error %(addr)s";
}

std::unique_ptr<mosaik::world> example_chain(std::int64_t until, int length) {
    auto w = std::make_unique<mosaik::world>(fast(until));
    std::string from;
    for (int i = 0; i < length; ++i) {
        const std::string sid = "ExampleSim-" + std::to_string(i);
        w->start(sid, mosaik::remote_simulator::launch(sid, example_sim_command()));
        const auto made = w->create(sid, 1, "ExampleModel", {{value("init_val"), value(0)}});
        if (!from.empty()) w->connect(from, made.at(0), {{"val", "delta"}});
        from = made.at(0);
    }
    return w;
}

double floor_ns(bool spin) {
    raw_remote_pingpong raw(spin);
    if (!raw.check().empty()) return std::numeric_limits<double>::quiet_NaN();
    return sim::bench::measure_ns_per_op(raw, std::chrono::milliseconds(500));
}

// CPU time of this process per raw round trip (user + system): what a master that did nothing
// but the I/O would cost.
double floor_cpu_ns(bool spin) {
    raw_remote_pingpong raw(spin);
    if (!raw.check().empty()) return std::numeric_limits<double>::quiet_NaN();
    constexpr int n = 20'000;
    const cpu_times cpu0 = cpu_seconds();
    for (int i = 0; i < n; ++i)
        raw();
    return (cpu_seconds().total - cpu0.total) * 1e9 / n;
}

void tcp_one(benchmark::State& state, bool pin) {
    pinned p(pin);
    constexpr std::int64_t until = 20'000;
    const double floor = floor_ns(false);
    const double floor_cpu = floor_cpu_ns(false);
    std::string error;
    run_figures f;
    try {
        sim::runtime rt({.name = "master"});
        rt.run([&] {
            f = iterate_worlds(
                state, [] { return example_chain(until, 1); }, error);
        });
    } catch (const std::exception& e) {
        error = e.what();
    }
    if (!error.empty()) return state.SkipWithError(error.c_str());
    sim::bench::report_floor(state, ns_per(f.wall_s, f.steps),
                             pin ? "raw blocking ping-pong, pinned" : "raw blocking ping-pong",
                             floor);
    state.counters["steps_per_s"] = static_cast<double>(f.steps) / f.wall_s;
    state.counters["master_cpu_ns_per_step"] = ns_per(f.cpu_s, f.steps);
    state.counters["master_user_ns_per_step"] = ns_per(f.user_s, f.steps);
    state.counters["floor_cpu_ns"] = floor_cpu;
    state.SetLabel(
        std::string(pin ? "two processes pinned to one core" : "two processes, two cores") +
        "; TCP loopback, json; floor=raw 64-byte ping-pong with a child");
}

void tcp_chain(benchmark::State& state, bool pin) {
    pinned p(pin);
    constexpr std::int64_t until = 2'000;
    constexpr int length = 10;
    constexpr double mosaik_rate = 530;  // time steps/s, mosaik 3.3.3, same ten processes
    const double floor = floor_ns(false);
    std::string error;
    run_figures f;
    try {
        sim::runtime rt({.name = "master"});
        rt.run([&] {
            f = iterate_worlds(
                state, [] { return example_chain(until, length); }, error);
        });
    } catch (const std::exception& e) {
        error = e.what();
    }
    if (!error.empty()) return state.SkipWithError(error.c_str());
    const double time_steps = static_cast<double>(f.steps) / length;
    sim::bench::report_floor(state, f.wall_s * 1e9 / time_steps,
                             pin ? "19 sequential raw blocking ping-pongs, pinned"
                                 : "19 sequential raw blocking ping-pongs",
                             floor * (2 * length - 1));
    state.counters["time_steps_per_s"] = time_steps / f.wall_s;
    state.counters["x_mosaik"] = time_steps / f.wall_s / mosaik_rate;
    state.counters["master_cpu_ns_per_step"] = ns_per(f.cpu_s, f.steps);
    state.counters["master_user_ns_per_step"] = ns_per(f.user_s, f.steps);
    state.SetLabel(
        "eleven processes, two cores; TCP loopback, json; floor=19 sequential raw "
        "64-byte ping-pongs per time step");
}

[[maybe_unused]] const bool registered = [] {
    using benchmark::RegisterBenchmark;
    RegisterBenchmark("master/plugin/1-sim", plugin_one)->UseManualTime()->Iterations(5);
    RegisterBenchmark("master/plugin/event-chain", plugin_event_chain)
        ->ArgName("until")
        ->Arg(250)
        ->Arg(1000)
        ->Arg(10'000)
        ->UseManualTime()
        ->Iterations(5);
    RegisterBenchmark("master/tcp/1-sim/pinned", [](benchmark::State& s) { tcp_one(s, true); })
        ->UseManualTime()
        ->Iterations(3);
    RegisterBenchmark("master/tcp/1-sim/two-cores", [](benchmark::State& s) { tcp_one(s, false); })
        ->UseManualTime()
        ->Iterations(3);
    RegisterBenchmark("master/tcp/chain-of-10/two-cores",
                      [](benchmark::State& s) { tcp_chain(s, false); })
        ->UseManualTime()
        ->Iterations(3);
    RegisterBenchmark("master/tcp/chain-of-10/pinned",
                      [](benchmark::State& s) { tcp_chain(s, true); })
        ->UseManualTime()
        ->Iterations(3);
    return true;
}();

}  // namespace

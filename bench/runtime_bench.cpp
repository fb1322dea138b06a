// Runtime benchmarks: what a fiber switch and a fiber's whole life cost in a sim::runtime, beside
// the same loops on Boost.Fiber's own round_robin scheduler without a runtime (the floor: the
// difference is what our asio_scheduler and the runtime's bookkeeping add), and a bare
// boost::context::fiber switch (informational: the cost of the stack switch alone).
//
// Threads: everything runs on the benchmark thread; the fibers of a benchmark share it, and no
// other thread is involved (the label of each benchmark says "one thread" as well).
//
//   runtime/fiber-switch         two fibers of a runtime hand the thread to each other with
//                                boost::this_fiber::yield(). One iteration is two yields (ours,
//                                then the partner's); ns_per_switch is half an iteration.
//   runtime/fiber-spawn          sim::spawn of an empty lambda, then yield until it has run and
//                                finished: spawn + first switch + run + finish + back, per fiber.
//   floor/boost-fiber/yield      runtime/fiber-switch's loop on round_robin, no runtime.
//   floor/boost-fiber/spawn      runtime/fiber-spawn's loop on round_robin, no runtime: a
//                                detached boost::fibers::fiber (launch::post) on the same pooled
//                                stack allocator and stack size as the runtime's.
//   floor/boost-context/switch   a boost::context::fiber resumed and resuming back: two switches.
//
// Every runtime benchmark reports ratio_to_floor = (our ns) / (round_robin floor ns), with the
// floor's ns beside it in floor_ns (the floors measured once per process, so a filter that skips
// their own lines, such as "channel|runtime|asio", still gets the ratio). For orientation, Boost
// reports ~60 ns per switch and ~300 ns per fiber on machines like these.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include <benchmark/benchmark.h>
#include <boost/context/fiber.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>
#include <boost/fiber/pooled_fixedsize_stack.hpp>

#include <sim/runtime/runtime.hpp>

#include "bench_support.hpp"

namespace {

using sim::bench::bench_clock;
using sim::bench::floor_ns_per_op;
using sim::bench::ns_per_iteration;
using sim::bench::report_floor;
using sim::bench::run_op;

constexpr const char* one_thread = "one thread";

// ---- floors ------------------------------------------------------------------------------------

// Two fibers yielding to each other on the thread's round_robin scheduler: the calling context
// (the thread's main context, or a fiber) and a partner made here. Use outside a runtime only.
class boost_fiber_yield {
  public:
    boost_fiber_yield()
        : partner_([this] {
              while (!stop_)
                  boost::this_fiber::yield();
          }) {
        boost::this_fiber::yield();  // the partner starts
    }
    boost_fiber_yield(const boost_fiber_yield&) = delete;
    boost_fiber_yield& operator=(const boost_fiber_yield&) = delete;
    ~boost_fiber_yield() {
        stop_ = true;
        partner_.join();
    }

    SIM_BENCH_OP void operator()() { boost::this_fiber::yield(); }

    std::size_t payload_size() const { return 0; }
    std::string check() { return {}; }

  private:
    bool stop_ = false;
    boost::fibers::fiber partner_;
};

// A detached fiber per op, waited for by yielding, as runtime/fiber-spawn does with sim::spawn.
class boost_fiber_spawn {
  public:
    SIM_BENCH_OP void operator()() {
        boost::fibers::fiber(boost::fibers::launch::post, std::allocator_arg, stacks_, [this] {
            ++finished_;
        }).detach();
        ++started_;
        while (finished_ != started_)
            boost::this_fiber::yield();
    }

    std::size_t payload_size() const { return 0; }
    std::string check() {
        (*this)();
        return finished_ == started_ ? "" : "the fiber did not run";
    }

  private:
    boost::fibers::pooled_fixedsize_stack stacks_{sim::runtime_options{}.stack_size};
    std::uint64_t started_ = 0;
    std::uint64_t finished_ = 0;
};

// One op resumes the fiber, which resumes us back at once: two stack switches, no scheduler.
class context_switch {
  public:
    SIM_BENCH_OP void operator()() { partner_ = std::move(partner_).resume(); }

    std::size_t payload_size() const { return 0; }
    std::string check() { return partner_ ? "" : "the context fiber ended"; }

  private:
    boost::context::fiber partner_{[](boost::context::fiber&& caller) -> boost::context::fiber {
        for (;;)
            caller = std::move(caller).resume();
    }};
};

double yield_floor_ns() {
    return floor_ns_per_op("floor/boost-fiber/yield", [] { return boost_fiber_yield(); });
}

double spawn_floor_ns() {
    return floor_ns_per_op("floor/boost-fiber/spawn", [] { return boost_fiber_spawn(); });
}

// ---- ours --------------------------------------------------------------------------------------

void runtime_fiber_switch(benchmark::State& state) {
    const double floor_ns = yield_floor_ns();
    double our_ns = std::numeric_limits<double>::quiet_NaN();
    sim::runtime rt;
    rt.run([&] {
        bool stop = false;
        bool partner_done = false;
        sim::spawn([&] {
            while (!stop)
                boost::this_fiber::yield();
            partner_done = true;
        });
        boost::this_fiber::yield();  // the partner starts
        const auto start = bench_clock::now();
        for (auto _ : state)
            boost::this_fiber::yield();
        our_ns = ns_per_iteration(bench_clock::now() - start, state.iterations());
        // The partner reads `stop` on this fiber's stack: it must be done before we return.
        stop = true;
        while (!partner_done)
            boost::this_fiber::yield();
    });
    report_floor(state, our_ns, "boost-fiber/yield (round_robin)", floor_ns);
    state.SetLabel(std::string(one_thread) + "; floor=boost-fiber/yield (round_robin)");
    state.SetItemsProcessed(2 * static_cast<std::int64_t>(state.iterations()));
    state.counters["ns_per_switch"] = our_ns / 2;
}

void runtime_fiber_spawn(benchmark::State& state) {
    const double floor_ns = spawn_floor_ns();
    double our_ns = std::numeric_limits<double>::quiet_NaN();
    sim::runtime rt;
    rt.run([&] {
        std::uint64_t started = 0;
        std::uint64_t finished = 0;
        // Warm-up: the stack pool fills, so that the loop reuses stacks as a long run does.
        for (int i = 0; i < 1000; ++i) {
            sim::spawn([&finished] { ++finished; });
            ++started;
            while (finished != started)
                boost::this_fiber::yield();
        }
        const auto start = bench_clock::now();
        for (auto _ : state) {
            sim::spawn([&finished] { ++finished; });
            ++started;
            while (finished != started)
                boost::this_fiber::yield();
        }
        our_ns = ns_per_iteration(bench_clock::now() - start, state.iterations());
    });
    report_floor(state, our_ns, "boost-fiber/spawn (round_robin)", floor_ns);
    state.SetLabel(std::string(one_thread) + "; floor=boost-fiber/spawn (round_robin)");
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// ---- registration ------------------------------------------------------------------------------

[[maybe_unused]] const bool registered = [] {
    benchmark::RegisterBenchmark("floor/boost-context/switch", [](benchmark::State& state) {
        context_switch op;
        const double ns = run_op(state, op);
        state.SetLabel(std::string(one_thread) + "; two switches per iteration");
        state.counters["ns_per_switch"] = ns / 2;
        state.SetItemsProcessed(2 * static_cast<std::int64_t>(state.iterations()));
    });
    benchmark::RegisterBenchmark("floor/boost-fiber/yield", [](benchmark::State& state) {
        boost_fiber_yield op;
        const double ns = run_op(state, op);
        state.SetLabel(std::string(one_thread) + "; round_robin, two yields per iteration");
        state.counters["ns_per_switch"] = ns / 2;
        state.SetItemsProcessed(2 * static_cast<std::int64_t>(state.iterations()));
    });
    benchmark::RegisterBenchmark("floor/boost-fiber/spawn", [](benchmark::State& state) {
        boost_fiber_spawn op;
        run_op(state, op);
        state.SetLabel(std::string(one_thread) + "; round_robin");
    });
    benchmark::RegisterBenchmark("runtime/fiber-switch", runtime_fiber_switch);
    benchmark::RegisterBenchmark("runtime/fiber-spawn", runtime_fiber_spawn);
    return true;
}();

}  // namespace

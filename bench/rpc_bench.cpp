// RPC benchmarks: calls through a proxy to a function exposed with a typed C++ signature, beside
// the bare channel round trip of the same frame size measured in the same run, and the cost of
// dispatching a call to a nested path without any network.
//
// Threads: one thread for everything. A network benchmark runs both ends, client and server, in
// one sim::runtime on the benchmark thread, as the channel benchmarks without "two-threads" in
// their names do (waking a thread on another core would swamp what is measured); its label says
// "one thread: both ends". The dispatch benchmarks run no runtime at all.
//
//   rpc/roundtrip/{unix,tcp}/msgpack, rpc/roundtrip/unix/json
//                                        one thread. Sequential remote.call<std::string>("echo",
//                                        s) of `std::string echo(std::string)`, s sized so that
//                                        the request frame ["echo", [s], {}] is the channel
//                                        benchmarks' 64 bytes (the reply, the bare string, is
//                                        smaller than the request: reply_bytes).
//   rpc/throughput/unix/msgpack/inflight:100
//                                        one thread. 100 fibers calling echo on one connection,
//                                        each calling again as soon as its reply came (the
//                                        callers are sim::async fibers joined by when_all).
//   rpc/throughput/unix/msgpack/async_call:100
//                                        one thread. A window of 100 remote.async_call futures
//                                        on one connection: the oldest is taken, a new call
//                                        started; a fiber per call.
//   rpc/dispatch/nested:{1,3,6}[/kwargs:1]
//                                        no network, no runtime: router.resolve() of a path of N
//                                        components in a tree built for it (8 names per router),
//                                        then the resolved handler invoked with prebuilt
//                                        arguments: add(1, 2, 3), or add(1, 2, scale=3) with one
//                                        keyword. Time is ns per dispatch.
//
// Counters. overhead_vs_channel = our ns per call / the channel's ns per request - 1 (target
// < 0.25), where the channel's (channel_ns) comes from the same loop of bare ch.send() of a
// 64-byte frame to an echo server (channel/roundtrip/..., channel/throughput/...), measured once
// per process in a runtime of its own, so a filter that skips the channel benchmarks still gets
// it. frame_bytes and reply_bytes = mean sizes of the request and reply frames of the timed loop,
// headers included (from the channel's counters). resolve_ns = router.resolve() alone, measured
// on the same tree in the same run.
//
// Google Benchmark appends "/real_time" to these names: their times and rates use the wall clock,
// as a thread blocked in the kernel spends none of its CPU time.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include <sim/codec/value.hpp>
#include <sim/rpc/connection.hpp>
#include <sim/rpc/proxy.hpp>
#include <sim/rpc/router.hpp>
#include <sim/runtime/runtime.hpp>

#include "bench_support.hpp"
#include "net_support.hpp"

namespace {

using sim::bench::channel_benchmark_name;
using sim::bench::channel_ns_per_request;
using sim::bench::content_of_frame_size;
using sim::bench::in_flight_batch;
using sim::bench::listen_url;
using sim::bench::loop_result;
using sim::bench::loop_timer;
using sim::bench::measure_ns_per_op;
using sim::bench::run_op;
using sim::bench::temp_dir;
using sim::bench::time_in_flight;
using sim::bench::time_round_trips;
using sim::bench::transport;
using sim::bench::transport_name;
using sim::bench::warm_up_round_trips;
using sim::bench::with_codec;

constexpr std::string_view one_thread_label = "one thread: both ends";

// ---- over a connection -------------------------------------------------------------------------

sim::value echo_request(std::string text) {
    return sim::value(sim::array{"echo", sim::array{std::move(text)}, sim::map{}});
}

// The argument that makes the request frame of echo(s) the channel benchmarks' frame_bytes with
// a typical id: 45 characters for msgpack.
std::string echo_argument(std::string_view codec) {
    std::size_t chars = 0;
    content_of_frame_size(codec, [&](std::size_t n) {
        chars = n;
        return echo_request(std::string(n, 'x'));
    });
    return std::string(chars, 'x');
}

// A typed signature, as users expose their functions: the request's argument converts to a
// std::string and the result back to a value, which the raw channel echo does not pay.
void expose_echo(sim::rpc::router& root) {
    root.expose("echo", [](std::string s) { return s; });
}

void report_calls(benchmark::State& state, const loop_result& ours, double channel_ns,
                  const std::string& label) {
    state.SetLabel(label);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.counters["overhead_vs_channel"] = ours.ns_per_request / channel_ns - 1;
    state.counters["channel_ns"] = channel_ns;
    state.counters["frame_bytes"] = ours.mean_frame_bytes;
    state.counters["reply_bytes"] = ours.mean_reply_bytes;
}

// Serves echo and runs `measure(conn, text)` against it over one connection, both ends in one
// runtime on this thread; `text` is the argument whose request frame is the channel benchmarks'
// size. Returns what `measure` returns; `error` says why there is nothing.
template <class Measure>
loop_result on_echo_connection(transport t, std::string_view codec, std::string& error,
                               Measure measure) {
    const temp_dir dir;
    const std::string text = echo_argument(codec);
    // Outlives the runtime: the server's connection fibers use it until they end.
    sim::rpc::router root;
    expose_echo(root);
    loop_result ours;
    try {
        sim::runtime rt;
        rt.run([&] {
            auto srv = sim::rpc::start_server(listen_url(t, dir), root, {}, with_codec(codec));
            auto conn = sim::rpc::open_connection(srv.local_address(), nullptr, with_codec(codec));
            ours = measure(conn, text);
            conn.close();
        });
    } catch (const std::exception& e) {
        error = e.what();
    }
    return ours;
}

// Calls echo: `in_flight` 1 for sequential calls, more for that many calling fibers.
void rpc_calls(benchmark::State& state, transport t, std::string_view codec, int in_flight) {
    const double channel_ns = channel_ns_per_request(t, codec, in_flight);
    std::string error;
    const loop_result ours = on_echo_connection(
        t, codec, error, [&](sim::rpc::connection& conn, const std::string& text) {
            const sim::rpc::proxy remote = conn.remote();
            auto call = [&] { return remote.call<std::string>("echo", text); };
            return in_flight <= 1
                       ? time_round_trips(state, conn.channel(), call, text, error)
                       : time_in_flight(state, conn.channel(), in_flight, call, text, error);
        });
    if (!error.empty()) return state.SkipWithError(error.c_str());
    std::string label = std::string(one_thread_label);
    if (in_flight > 1) label += ", " + std::to_string(in_flight) + " calls in flight";
    report_calls(state, ours, channel_ns,
                 label + "; vs " + channel_benchmark_name(t, codec, in_flight));
    if (in_flight > 1) {
        constexpr int runtime_threads = 1;
        state.counters["per_thread_rps"] = 1e9 / ours.ns_per_request / runtime_threads;
    }
}

// A window of `window` async_call futures: the oldest taken (get) and a new call started in its
// place, `calls` times, then the rest taken.
void run_async_window(const sim::rpc::proxy& remote, const std::string& text, int window,
                      std::int64_t calls) {
    std::deque<sim::future<std::string>> in_flight;
    for (std::int64_t i = 0; i < calls; ++i) {
        if (in_flight.size() == static_cast<std::size_t>(window)) {
            auto reply = in_flight.front().get();
            benchmark::DoNotOptimize(reply);
            in_flight.pop_front();
        }
        in_flight.push_back(remote.async_call<std::string>("echo", text));
    }
    for (; !in_flight.empty(); in_flight.pop_front()) {
        auto reply = in_flight.front().get();
        benchmark::DoNotOptimize(reply);
    }
}

// As rpc_calls with 100 in flight, but one async_call per request and no calling fibers of our
// own. Each call runs in a fiber of its own that async_call spawns: the cost of the convenience
// over long-lived callers.
void rpc_async_window(benchmark::State& state, transport t, std::string_view codec, int window) {
    const double channel_ns = channel_ns_per_request(t, codec, window);
    std::string error;
    const loop_result ours = on_echo_connection(
        t, codec, error, [&](sim::rpc::connection& conn, const std::string& text) -> loop_result {
            const sim::rpc::proxy remote = conn.remote();
            run_async_window(remote, text, window, std::int64_t{warm_up_round_trips} * 10);
            if (remote.async_call<std::string>("echo", text).get() != text) {
                error = "the echo differs from the request";
                return {};
            }
            const std::int64_t batch = in_flight_batch(window);
            const loop_timer timer(conn.channel());
            while (state.KeepRunningBatch(batch))
                run_async_window(remote, text, window, batch);
            return timer.finish(state.iterations());
        });
    if (!error.empty()) return state.SkipWithError(error.c_str());
    report_calls(state, ours, channel_ns,
                 std::string(one_thread_label) + ", a window of " + std::to_string(window) +
                     " async calls; vs " + channel_benchmark_name(t, codec, window));
    constexpr int runtime_threads = 1;
    state.counters["per_thread_rps"] = 1e9 / ours.ns_per_request / runtime_threads;
}

// ---- dispatch without a network ----------------------------------------------------------------

// Names beside each one on the path, so that every lookup searches a router of a plausible size
// rather than a map of one entry.
constexpr int names_per_router = 8;

// A tree of `depth` - 1 nested routers with add(a, b, scale=1) at the bottom, and the arguments
// of one call of it. One op resolves the path from the root and invokes the handler: what the
// connection does per request between decoding it and encoding the reply.
class nested_dispatch {
  public:
    nested_dispatch(int depth, bool keyword) {
        routers_.push_back(std::make_unique<sim::rpc::router>());
        for (int level = 1; level < depth; ++level) {
            const std::string name = "service" + std::to_string(level);
            routers_.push_back(std::make_unique<sim::rpc::router>());
            routers_[routers_.size() - 2]->add(name, *routers_.back());
            path_ += name + "/";
        }
        using sim::rpc::arg;
        routers_.back()->expose(
            "add", [](int a, int b, int scale) { return (a + b) * scale; }, arg("a"), arg("b"),
            arg("scale") = 1);
        path_ += "add";
        // Each router holds one name of the path so far.
        for (auto& r : routers_) {
            for (int i = 1; i < names_per_router; ++i) {
                r->expose("other" + std::to_string(i), [] { return 0; });
            }
        }
        args_ = {1, 2};
        if (keyword) {
            kwargs_.insert_or_assign("scale", 3);
        } else {
            args_.emplace_back(3);
        }
    }
    nested_dispatch(const nested_dispatch&) = delete;
    nested_dispatch& operator=(const nested_dispatch&) = delete;

    SIM_BENCH_OP void operator()() {
        const sim::rpc::router::target target = routers_.front()->resolve(path_);
        sim::value result = (*target.function)({args_, kwargs_});
        benchmark::DoNotOptimize(result);
    }
    std::size_t payload_size() const { return 0; }
    std::string check() {
        const sim::rpc::router::target target = routers_.front()->resolve(path_);
        if (target.function == nullptr) return "\"" + path_ + "\" resolves to no function";
        if ((*target.function)({args_, kwargs_}) != sim::value(9)) return "add(1, 2, 3) != 9";
        return {};
    }

    sim::rpc::router& root() const { return *routers_.front(); }
    const std::string& path() const { return path_; }

  private:
    std::vector<std::unique_ptr<sim::rpc::router>> routers_;  // the root first, add's last
    std::string path_;
    sim::array args_;
    sim::map kwargs_;
};

// router.resolve() alone, to split a dispatch into finding the function and calling it.
class resolve_only {
  public:
    explicit resolve_only(const nested_dispatch& tree) : tree_(&tree) {}

    SIM_BENCH_OP void operator()() {
        sim::rpc::router::target target = tree_->root().resolve(tree_->path());
        benchmark::DoNotOptimize(target);
    }
    std::size_t payload_size() const { return 0; }
    std::string check() { return {}; }

  private:
    const nested_dispatch* tree_;
};

void rpc_dispatch(benchmark::State& state, int depth, bool keyword) {
    nested_dispatch op(depth, keyword);
    run_op(state, op);
    resolve_only resolve(op);
    state.SetLabel("one thread, no runtime: path " + op.path());
    state.counters["resolve_ns"] = measure_ns_per_op(resolve);
}

// ---- registration ------------------------------------------------------------------------------

[[maybe_unused]] const bool registered = [] {
    const auto add = [](const std::string& name, auto fn) {
        // Blocking in the kernel costs no CPU time: rates must use the wall clock.
        benchmark::RegisterBenchmark(name.c_str(), std::move(fn))->UseRealTime();
    };
    for (transport t : {transport::unix_socket, transport::tcp}) {
        for (std::string_view codec : {"msgpack", "json"}) {
            // JSON's cost over msgpack is the codec's, which the Unix socket shows as well.
            if (t == transport::tcp && codec == "json") continue;
            add("rpc/roundtrip/" + transport_name(t) + "/" + std::string(codec),
                [t, codec](benchmark::State& state) { rpc_calls(state, t, codec, 1); });
        }
    }
    add("rpc/throughput/unix/msgpack/inflight:100",
        [](benchmark::State& state) { rpc_calls(state, transport::unix_socket, "msgpack", 100); });
    add("rpc/throughput/unix/msgpack/async_call:100", [](benchmark::State& state) {
        rpc_async_window(state, transport::unix_socket, "msgpack", 100);
    });
    for (int depth : {1, 3, 6}) {
        for (bool keyword : {false, true}) {
            add("rpc/dispatch/nested:" + std::to_string(depth) + (keyword ? "/kwargs:1" : ""),
                [depth, keyword](benchmark::State& state) { rpc_dispatch(state, depth, keyword); });
        }
    }
    return true;
}();

}  // namespace

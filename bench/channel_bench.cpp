// Channel benchmarks: request/reply over TCP (127.0.0.1) and Unix sockets with the JSON and
// msgpack codecs, beside a raw Asio ping-pong of the same bytes measured in the same run.
//
// Threads. Unless its name says "two-threads", a benchmark runs both ends, client and server, on
// the benchmark thread: one sim::runtime for ours, one io_context for the raw floor. On these VMs
// waking a thread on another core costs 60-100 us, which would swamp everything measured here;
// the label of each benchmark says "one thread" or "two threads" as well.
//
//   floor/asio-pingpong/{tcp,unix}                 one thread. The floor: a 64-byte frame written
//                                                  and echoed back with plain Asio callbacks.
//   channel/roundtrip/{tcp,unix}/{json,msgpack}    one thread. Sequential ch.send() of a 64-byte
//                                                  frame to an echo server.
//   channel/throughput/{unix,tcp}/msgpack/inflight:100
//                                                  one thread. 100 fibers keep 100 requests in
//                                                  flight on one channel.
//   channel/roundtrip/two-threads/unix/msgpack/busy_poll:{0us,50us}
//                                                  two threads: the client's runtime on the
//                                                  benchmark thread, the server's on its own, both
//                                                  busy-polling for that long before blocking.
//
// Counters. ratio_to_raw = our round trips/s over the raw ping-pong's round trips/s on the same
// transport (raw_ns: its ns per round trip, measured once per process), target >= 0.7. The
// two-thread variants are compared with the one-thread floor, to show what the second thread
// costs. per_thread_rps = requests/s per runtime thread, target >= 500,000 for msgpack over Unix
// sockets with 100 in flight. frame_bytes = mean size of the request frames the timed loop sent,
// header included (from the channel's counters; the floor's frames are always 64 bytes).
//
// Google Benchmark appends "/real_time" to these names: their times and rates use the wall clock,
// as a thread blocked in the kernel spends none of its CPU time.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <benchmark/benchmark.h>

#include <sim/channel/channel.hpp>
#include <sim/core/asio.hpp>
#include <sim/runtime/runtime.hpp>

#include "asio_floor.hpp"
#include "bench_support.hpp"
#include "net_support.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using sim::bench::echo_server;
using sim::bench::floor_ns_per_op;
using sim::bench::frame_bytes;
using sim::bench::listen_url;
using sim::bench::loop_result;
using sim::bench::make_tcp_pingpong;
using sim::bench::make_unix_pingpong;
using sim::bench::raw_floor_key;
using sim::bench::raw_ns_per_round_trip;
using sim::bench::request_content;
using sim::bench::run_op;
using sim::bench::temp_dir;
using sim::bench::time_in_flight;
using sim::bench::time_round_trips;
using sim::bench::transport;
using sim::bench::transport_name;
using sim::bench::with_codec;

template <class MakePingpong>
void raw_pingpong_benchmark(benchmark::State& state, MakePingpong make) {
    auto op = make();
    run_op(state, op);
    state.SetLabel("one thread: both ends");
    state.counters["frame_bytes"] = static_cast<double>(frame_bytes);
}

// ---- ours --------------------------------------------------------------------------------------

void report_round_trips(benchmark::State& state, const loop_result& ours, double raw_ns,
                        const std::string& label) {
    state.SetLabel(label);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.counters["ratio_to_raw"] = raw_ns / ours.ns_per_request;
    state.counters["raw_ns"] = raw_ns;
    state.counters["frame_bytes"] = ours.mean_frame_bytes;
}

// Both ends in one runtime on the benchmark thread.
void channel_roundtrip(benchmark::State& state, transport t, std::string_view codec) {
    const double raw_ns = raw_ns_per_round_trip(t);
    const temp_dir dir;
    const sim::value content = request_content(codec);
    loop_result ours;
    std::string error;
    try {
        sim::runtime rt;
        rt.run([&] {
            auto srv = sim::start_server(listen_url(t, dir), echo_server, with_codec(codec));
            auto ch = sim::open_connection(srv.local_address(), with_codec(codec));
            ours = time_round_trips(
                state, ch, [&] { return ch.send(content); }, content, error);
            ch.close();
        });
    } catch (const std::exception& e) {
        error = e.what();
    }
    if (!error.empty()) return state.SkipWithError(error.c_str());
    report_round_trips(state, ours, raw_ns, "one thread: both ends; raw=" + raw_floor_key(t));
}

// The client's runtime on the benchmark thread, the server's on a thread of its own; both poll
// for I/O for `busy_poll` before blocking in the kernel.
void channel_roundtrip_two_threads(benchmark::State& state, transport t, std::string_view codec,
                                   std::chrono::microseconds busy_poll) {
    const double raw_ns = raw_ns_per_round_trip(t);
    const temp_dir dir;
    const sim::value content = request_content(codec);
    loop_result ours;
    std::string error;

    sim::runtime server_rt(sim::runtime_options{.busy_poll = busy_poll, .name = "bench-server"});
    server_rt.start();
    // Made, used and destroyed on the server's thread only.
    std::optional<sim::server> srv;
    try {
        const sim::address at = server_rt.invoke([&] {
            srv.emplace(sim::start_server(listen_url(t, dir), echo_server, with_codec(codec)));
            return srv->local_address();
        });
        sim::runtime client_rt(
            sim::runtime_options{.busy_poll = busy_poll, .name = "bench-client"});
        client_rt.run([&] {
            auto ch = sim::open_connection(at, with_codec(codec));
            ours = time_round_trips(
                state, ch, [&] { return ch.send(content); }, content, error);
            ch.close();
        });
    } catch (const std::exception& e) {
        error = e.what();
    }
    server_rt.invoke([&] { srv.reset(); });
    server_rt.stop();
    server_rt.join();

    if (!error.empty()) return state.SkipWithError(error.c_str());
    report_round_trips(state, ours, raw_ns,
                       "two threads: client and server; raw=" + raw_floor_key(t) + " (one thread)");
}

// `in_flight` fibers share one channel, each sending as soon as its previous reply came, so that
// `in_flight` requests are always outstanding (but at the end of a batch); the server's echo
// handler is the same one-at-a-time loop as above, in the same runtime.
void channel_throughput(benchmark::State& state, transport t, std::string_view codec,
                        int in_flight) {
    const temp_dir dir;
    const sim::value content = request_content(codec);
    loop_result ours;
    std::string error;
    try {
        sim::runtime rt;
        rt.run([&] {
            auto srv = sim::start_server(listen_url(t, dir), echo_server, with_codec(codec));
            auto ch = sim::open_connection(srv.local_address(), with_codec(codec));
            ours = time_in_flight(
                state, ch, in_flight, [&] { return ch.send(content); }, content, error);
            ch.close();
        });
    } catch (const std::exception& e) {
        error = e.what();
    }
    if (!error.empty()) return state.SkipWithError(error.c_str());
    constexpr int runtime_threads = 1;
    state.SetLabel("one thread: both ends, " + std::to_string(in_flight) + " requests in flight");
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.counters["per_thread_rps"] = 1e9 / ours.ns_per_request / runtime_threads;
    state.counters["frame_bytes"] = ours.mean_frame_bytes;
}

// ---- registration ------------------------------------------------------------------------------

[[maybe_unused]] const bool registered = [] {
    const auto add = [](const std::string& name, auto fn) {
        // Blocking in the kernel costs no CPU time: rates must use the wall clock.
        benchmark::RegisterBenchmark(name.c_str(), std::move(fn))->UseRealTime();
    };
    add("floor/asio-pingpong/tcp",
        [](benchmark::State& state) { raw_pingpong_benchmark(state, make_tcp_pingpong); });
    add("floor/asio-pingpong/unix",
        [](benchmark::State& state) { raw_pingpong_benchmark(state, make_unix_pingpong); });

    for (transport t : {transport::tcp, transport::unix_socket}) {
        for (std::string_view codec : {"json", "msgpack"}) {
            add("channel/roundtrip/" + transport_name(t) + "/" + std::string(codec),
                [t, codec](benchmark::State& state) { channel_roundtrip(state, t, codec); });
        }
    }

    for (transport t : {transport::unix_socket, transport::tcp}) {
        add("channel/throughput/" + transport_name(t) + "/msgpack/inflight:100",
            [t](benchmark::State& state) { channel_throughput(state, t, "msgpack", 100); });
    }

    for (auto busy_poll : {0us, 50us}) {
        add("channel/roundtrip/two-threads/unix/msgpack/busy_poll:" +
                std::to_string(busy_poll.count()) + "us",
            [busy_poll](benchmark::State& state) {
                channel_roundtrip_two_threads(state, transport::unix_socket, "msgpack", busy_poll);
            });
    }
    return true;
}();

}  // namespace

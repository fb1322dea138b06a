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
using sim::bench::request_content;
using sim::bench::run_op;
using sim::bench::temp_dir;
using sim::bench::time_in_flight;
using sim::bench::time_round_trips;
using sim::bench::transport;
using sim::bench::transport_name;
using sim::bench::with_codec;

// Each raw floor is measured over this much wall time (five rounds, the median taken).
constexpr auto raw_floor_budget = 500ms;

// ---- the floor: a raw Asio ping-pong -----------------------------------------------------------

// Client and server sockets of one connection on one io_context, driven by plain Asio callbacks:
// the client writes a frame_bytes frame (4-byte big-endian length, then the payload) and reads
// the echo; the server reads the header, then the payload, and writes the frame back. One op is
// one round trip. The io_context is built as the runtime builds its own (no concurrency hint), so
// both pay the same locking in Asio's scheduler.
template <class Protocol>
class asio_pingpong {
public:
    explicit asio_pingpong(const typename Protocol::endpoint& listen_at)
        : client_(io_), server_(io_) {
        typename Protocol::acceptor acceptor(io_, listen_at);
        client_.connect(acceptor.local_endpoint());
        acceptor.accept(server_);
        if constexpr (std::is_same_v<Protocol, asio::ip::tcp>) {
            // As sim's TCP transport does: without it Nagle holds back the echo.
            client_.set_option(asio::ip::tcp::no_delay(true));
            server_.set_option(asio::ip::tcp::no_delay(true));
        }
        constexpr auto payload = static_cast<std::uint32_t>(frame_bytes - header_bytes);
        request_.fill(std::byte{'x'});
        for (std::size_t i = 0; i < header_bytes; ++i) {
            request_[i] = static_cast<std::byte>(payload >> (8 * (header_bytes - 1 - i)));
        }
        server_read_header();
    }
    asio_pingpong(const asio_pingpong&) = delete;
    asio_pingpong& operator=(const asio_pingpong&) = delete;

    SIM_BENCH_OP void operator()() {
        remaining_ = 1;
        client_send();
        while (remaining_ > 0) io_.run_one();
    }

    std::size_t payload_size() const { return frame_bytes; }

    std::string check() {
        reply_.fill(std::byte{0});
        (*this)();
        if (!error_.empty()) return error_;
        return reply_ == request_ ? "" : "the raw echo differs from the request";
    }

private:
    static constexpr std::size_t header_bytes = 4;
    using frame = std::array<std::byte, frame_bytes>;

    static std::size_t payload_length(const frame& f) {
        std::size_t n = 0;
        for (std::size_t i = 0; i < header_bytes; ++i) n = n << 8 | static_cast<std::size_t>(f[i]);
        return n;
    }

    void fail(const boost::system::error_code& ec) {
        error_ = "raw ping-pong: " + ec.message();
        remaining_ = 0;
    }

    void client_send() {
        asio::async_write(client_, asio::buffer(request_),
                          [this](boost::system::error_code ec, std::size_t) {
                              if (ec) return fail(ec);
                              client_read_header();
                          });
    }

    void client_read_header() {
        asio::async_read(client_, asio::buffer(reply_.data(), header_bytes),
                         [this](boost::system::error_code ec, std::size_t) {
                             if (ec) return fail(ec);
                             client_read_payload();
                         });
    }

    void client_read_payload() {
        const std::size_t n = payload_length(reply_);
        if (n > frame_bytes - header_bytes) return fail(asio::error::message_size);
        asio::async_read(client_, asio::buffer(reply_.data() + header_bytes, n),
                         [this](boost::system::error_code ec, std::size_t) {
                             if (ec) return fail(ec);
                             if (--remaining_ > 0) client_send();
                         });
    }

    void server_read_header() {
        asio::async_read(server_, asio::buffer(echo_.data(), header_bytes),
                         [this](boost::system::error_code ec, std::size_t) {
                             if (ec) return fail(ec);
                             server_read_payload();
                         });
    }

    void server_read_payload() {
        const std::size_t n = payload_length(echo_);
        if (n > frame_bytes - header_bytes) return fail(asio::error::message_size);
        asio::async_read(server_, asio::buffer(echo_.data() + header_bytes, n),
                         [this, n](boost::system::error_code ec, std::size_t) {
                             if (ec) return fail(ec);
                             server_write(header_bytes + n);
                         });
    }

    void server_write(std::size_t n) {
        asio::async_write(server_, asio::buffer(echo_.data(), n),
                          [this](boost::system::error_code ec, std::size_t) {
                              if (ec) return fail(ec);
                              server_read_header();
                          });
    }

    asio::io_context io_;
    typename Protocol::socket client_;
    typename Protocol::socket server_;
    frame request_{};
    frame reply_{};
    frame echo_{};
    std::uint64_t remaining_ = 0;
    std::string error_;
};

using tcp_pingpong = asio_pingpong<asio::ip::tcp>;
using unix_pingpong = asio_pingpong<asio::local::stream_protocol>;

tcp_pingpong make_tcp_pingpong() {
    return tcp_pingpong(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
}

// The connected sockets outlive the socket file: `dir` goes once they are made.
unix_pingpong make_unix_pingpong() {
    const temp_dir dir;
    return unix_pingpong(asio::local::stream_protocol::endpoint((dir.path() / "x.sock").string()));
}

std::string raw_floor_key(transport t) {
    return "floor/asio-pingpong/" + transport_name(t);
}

double raw_ns_per_round_trip(transport t) {
    if (t == transport::tcp) {
        return floor_ns_per_op(raw_floor_key(t), make_tcp_pingpong, raw_floor_budget);
    }
    return floor_ns_per_op(raw_floor_key(t), make_unix_pingpong, raw_floor_budget);
}

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
                       "two threads: client and server; raw=" + raw_floor_key(t) +
                           " (one thread)");
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

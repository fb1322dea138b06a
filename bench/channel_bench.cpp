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
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>

#include <benchmark/benchmark.h>

#include <sim/channel/channel.hpp>
#include <sim/channel/message.hpp>
#include <sim/codec/codec.hpp>
#include <sim/core/asio.hpp>
#include <sim/runtime/runtime.hpp>

#include "bench_support.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using sim::bench::bench_clock;
using sim::bench::floor_ns_per_op;
using sim::bench::ns_per_iteration;
using sim::bench::run_op;
using sim::bench::temp_dir;

// The "64-byte request": one frame, 4-byte header included, in each direction.
constexpr std::size_t frame_bytes = 64;
// Request ids count up from 0 per channel, and their encoded size grows with them. The request's
// content is a string sized so that the frame is exactly frame_bytes for a 5-digit id, as most ids
// of a sequential run are (a fresh channel per run, a warm-up of 1,000, then some 10,000-100,000
// round trips): 53 characters for msgpack (64 bytes for ids 256-65,535, 66 above), 46 for JSON
// (63 bytes for 4-digit ids, 65 for 6 digits). The echo's reply frame has the same size as its
// request. The throughput runs count far higher: their frames are 65-66 bytes.
constexpr std::int64_t typical_id = 10'000;
// Round trips before timing: the allocator's free lists, the socket buffers and the CPU clock
// settle.
constexpr int warm_up_round_trips = 1000;
// Each raw floor is measured over this much wall time (five rounds, the median taken).
constexpr auto raw_floor_budget = 500ms;

enum class transport { tcp, unix_socket };

std::string transport_name(transport t) {
    return t == transport::tcp ? "tcp" : "unix";
}

std::size_t request_frame_size(std::string_view codec_name, const sim::value& content) {
    auto codec = sim::make_codec(codec_name);
    sim::byte_buffer out;
    sim::encode_frame(*codec, sim::message_type::request, sim::value(typical_id), content, out);
    return out.size();
}

// The smallest string whose request frame reaches frame_bytes with a typical id.
sim::value request_content(std::string_view codec_name) {
    for (std::size_t n = 0;; ++n) {
        sim::value content(std::string(n, 'x'));
        if (request_frame_size(codec_name, content) >= frame_bytes) return content;
    }
}

sim::channel_options with_codec(std::string_view codec) {
    sim::channel_options o;
    o.codec = std::string(codec);
    return o;
}

std::string listen_url(transport t, const temp_dir& dir) {
    if (t == transport::tcp) return "tcp://127.0.0.1:0";
    return "ipc://[" + (dir.path() / "x.sock").string() + "]";
}

void echo_server(sim::channel ch) {
    for (;;) {  // until recv() throws connection_closed, which start_server's fiber expects
        sim::request req = ch.recv();
        req.reply(req.content());
    }
}

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

struct loop_result {
    double ns_per_request = std::numeric_limits<double>::quiet_NaN();
    double mean_frame_bytes = std::numeric_limits<double>::quiet_NaN();  // header included
};

// Brackets a timed loop on `ch`: wall time, and the mean size of the frames it sent.
class loop_timer {
public:
    explicit loop_timer(const sim::channel& ch)
        : ch_(ch), stats_(ch.stats()), start_(bench_clock::now()) {}

    loop_result finish(benchmark::IterationCount requests) const {
        const auto elapsed = bench_clock::now() - start_;
        const sim::channel_stats now = ch_.stats();
        const auto frames = static_cast<double>(now.frames_out - stats_.frames_out);
        return {ns_per_iteration(elapsed, requests),
                static_cast<double>(now.bytes_out - stats_.bytes_out) / frames};
    }

private:
    const sim::channel& ch_;
    sim::channel_stats stats_;
    bench_clock::time_point start_;
};

// The benchmark loop in a fiber of the runtime: sequential round trips on `ch`, after a warm-up
// and a check of the echo. Sets `error` when something failed.
loop_result time_round_trips(benchmark::State& state, sim::channel& ch, const sim::value& content,
                             std::string& error) {
    for (int i = 0; i < warm_up_round_trips; ++i) ch.send(content);
    if (ch.send(content) != content) {
        error = "the echo differs from the request";
        return {};
    }
    const loop_timer timer(ch);
    for (auto _ : state) {
        sim::value reply = ch.send(content);
        benchmark::DoNotOptimize(reply);
    }
    return timer.finish(state.iterations());
}

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
            ours = time_round_trips(state, ch, content, error);
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
            ours = time_round_trips(state, ch, content, error);
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
    // Large enough that spawning the senders and the tail of each batch (fewer than in_flight
    // requests outstanding) cost nothing worth counting.
    const std::int64_t batch = std::int64_t{100} * in_flight;
    const temp_dir dir;
    const sim::value content = request_content(codec);
    loop_result ours;
    std::string error;
    try {
        sim::runtime rt;
        rt.run([&] {
            auto srv = sim::start_server(listen_url(t, dir), echo_server, with_codec(codec));
            auto ch = sim::open_connection(srv.local_address(), with_codec(codec));

            std::int64_t to_send = 0;
            int running = 0;
            boost::fibers::mutex mutex;  // for the condition variable; one thread needs no lock
            boost::fibers::condition_variable all_done;
            const auto run_batch = [&](std::int64_t requests) {
                to_send = requests;
                running = in_flight;
                for (int i = 0; i < in_flight; ++i) {
                    sim::spawn([&] {
                        try {
                            while (to_send > 0) {
                                --to_send;
                                sim::value reply = ch.send(content);
                                benchmark::DoNotOptimize(reply);
                            }
                        } catch (const std::exception& e) {
                            error = e.what();
                            to_send = 0;
                        }
                        std::unique_lock lock(mutex);
                        if (--running == 0) all_done.notify_one();
                    });
                }
                std::unique_lock lock(mutex);
                all_done.wait(lock, [&] { return running == 0; });
            };

            run_batch(std::int64_t{warm_up_round_trips} * 10);
            if (!error.empty()) return;
            if (ch.send(content) != content) {
                error = "the echo differs from the request";
                return;
            }
            const loop_timer timer(ch);
            while (state.KeepRunningBatch(batch)) run_batch(batch);
            ours = timer.finish(state.iterations());
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

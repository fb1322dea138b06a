#pragma once
// What the benchmarks over a connection share (channel_bench.cpp, rpc_bench.cpp): the 64-byte
// request frame and how to size a request to it, the echo server, the timed loops (sequential,
// and many fibers in flight), and the channel round trip as an op, so that the RPC benchmarks
// can measure it as their floor in the same run. Both ends of a connection run in one runtime
// on the benchmark thread unless a benchmark says otherwise.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include <sim/channel/channel.hpp>
#include <sim/channel/message.hpp>
#include <sim/codec/codec.hpp>
#include <sim/runtime/future.hpp>
#include <sim/runtime/runtime.hpp>

#include "bench_support.hpp"

namespace sim::bench {

// The "64-byte request": one frame, 4-byte header included.
inline constexpr std::size_t frame_bytes = 64;
// Request ids count up from 0 per channel, and their encoded size grows with them. Requests are
// sized so that the frame is frame_bytes for a 5-digit id, as most ids of a sequential run are (a
// fresh channel per run, a warm-up of 1,000, then some 10,000-100,000 round trips): with msgpack
// the frame has the same size for ids 256-65,535 and 2 bytes more above; with JSON a byte less
// for 4-digit ids and one more for 6 digits. Throughput runs count far higher: their frames are
// a byte or two larger.
inline constexpr std::int64_t typical_id = 10'000;
// Round trips before timing: the allocator's free lists, the socket buffers and the CPU clock
// settle.
inline constexpr int warm_up_round_trips = 1000;

enum class transport { tcp, unix_socket };

inline std::string transport_name(transport t) {
    return t == transport::tcp ? "tcp" : "unix";
}

inline std::string listen_url(transport t, const temp_dir& dir) {
    if (t == transport::tcp) return "tcp://127.0.0.1:0";
    return "ipc://[" + (dir.path() / "x.sock").string() + "]";
}

inline sim::channel_options with_codec(std::string_view codec) {
    sim::channel_options o;
    o.codec = std::string(codec);
    return o;
}

/// The size of the request frame carrying `content` with a typical id, header included.
inline std::size_t request_frame_size(std::string_view codec_name, const sim::value& content) {
    auto codec = sim::make_codec(codec_name);
    sim::byte_buffer out;
    sim::encode_frame(*codec, sim::message_type::request, sim::value(typical_id), content, out);
    return out.size();
}

/// `make(n)` for the smallest n whose request frame reaches frame_bytes with a typical id: a
/// request of the size whatever wraps the string that `n` sizes.
template <class MakeContent>
sim::value content_of_frame_size(std::string_view codec_name, MakeContent make) {
    for (std::size_t n = 0;; ++n) {
        sim::value content = make(n);
        if (request_frame_size(codec_name, content) >= frame_bytes) return content;
    }
}

/// The channel benchmarks' request: a bare string (53 characters for msgpack, 46 for JSON). The
/// echo's reply frame has the same size.
inline sim::value request_content(std::string_view codec_name) {
    return content_of_frame_size(codec_name,
                                 [](std::size_t n) { return sim::value(std::string(n, 'x')); });
}

inline void echo_server(sim::channel ch) {
    for (;;) {  // until recv() throws connection_closed, which start_server's fiber expects
        sim::request req = ch.recv();
        req.reply(req.content());
    }
}

// ---- timed loops -------------------------------------------------------------------------------

struct loop_result {
    double ns_per_request = std::numeric_limits<double>::quiet_NaN();
    // Mean frame sizes, headers included.
    double mean_frame_bytes = std::numeric_limits<double>::quiet_NaN();  // requests
    double mean_reply_bytes = std::numeric_limits<double>::quiet_NaN();  // replies
};

/// Brackets a timed loop on `ch`, the caller's end: wall time, and the mean size of the frames it
/// sent and received.
class loop_timer {
  public:
    explicit loop_timer(const sim::channel& ch)
        : ch_(ch), stats_(ch.stats()), start_(bench_clock::now()) {}

    loop_result finish(benchmark::IterationCount requests) const {
        const auto elapsed = bench_clock::now() - start_;
        const sim::channel_stats now = ch_.stats();
        return {ns_per_iteration(elapsed, requests),
                static_cast<double>(now.bytes_out - stats_.bytes_out) /
                    static_cast<double>(now.frames_out - stats_.frames_out),
                static_cast<double>(now.bytes_in - stats_.bytes_in) /
                    static_cast<double>(now.frames_in - stats_.frames_in)};
    }

  private:
    const sim::channel& ch_;
    sim::channel_stats stats_;
    bench_clock::time_point start_;
};

/// The benchmark loop in a fiber of the runtime: sequential `round_trip()`s over `ch`, after a
/// warm-up and a check that one returns `expected`. Sets `error` when something failed.
template <class RoundTrip, class Expected>
loop_result time_round_trips(benchmark::State& state, const sim::channel& ch, RoundTrip round_trip,
                             const Expected& expected, std::string& error) {
    for (int i = 0; i < warm_up_round_trips; ++i)
        round_trip();
    if (!(round_trip() == expected)) {
        error = "the echo differs from the request";
        return {};
    }
    const loop_timer timer(ch);
    for (auto _ : state) {
        auto reply = round_trip();
        benchmark::DoNotOptimize(reply);
    }
    return timer.finish(state.iterations());
}

/// `requests` calls of `round_trip()` from `in_flight` fibers, each calling again as soon as its
/// previous call returned, so that `in_flight` are always outstanding (but at the end); returns
/// once all have finished. Sets `error` (and stops) when a call throws.
template <class RoundTrip>
void run_in_flight(int in_flight, std::int64_t requests, RoundTrip& round_trip,
                   std::string& error) {
    std::int64_t to_send = requests;
    std::vector<sim::future<void>> callers;
    callers.reserve(static_cast<std::size_t>(in_flight));
    for (int i = 0; i < in_flight; ++i) {
        callers.push_back(sim::async([&] {
            try {
                while (to_send > 0) {
                    --to_send;
                    auto reply = round_trip();
                    benchmark::DoNotOptimize(reply);
                }
            } catch (...) {
                to_send = 0;  // the others stop too
                throw;
            }
        }));
    }
    try {
        sim::when_all(std::move(callers));
    } catch (const std::exception& e) {
        error = e.what();
    }
}

/// Requests per batch of run_in_flight: large enough that spawning the callers and the tail of
/// each batch (fewer than in_flight outstanding) cost nothing worth counting.
inline std::int64_t in_flight_batch(int in_flight) {
    return std::int64_t{100} * in_flight;
}

/// The throughput benchmark loop in a fiber of the runtime: batches of run_in_flight over `ch`,
/// after a warm-up and a check that one call returns `expected`.
template <class RoundTrip, class Expected>
loop_result time_in_flight(benchmark::State& state, const sim::channel& ch, int in_flight,
                           RoundTrip round_trip, const Expected& expected, std::string& error) {
    run_in_flight(in_flight, std::int64_t{warm_up_round_trips} * 10, round_trip, error);
    if (!error.empty()) return {};
    if (!(round_trip() == expected)) {
        error = "the echo differs from the request";
        return {};
    }
    const std::int64_t batch = in_flight_batch(in_flight);
    const loop_timer timer(ch);
    while (state.KeepRunningBatch(batch))
        run_in_flight(in_flight, batch, round_trip, error);
    return timer.finish(state.iterations());
}

// ---- the channel as a floor --------------------------------------------------------------------

// Each channel floor is measured over this much wall time (five rounds, the median taken): ops of
// microseconds need it for a stable median.
inline constexpr auto channel_floor_budget = std::chrono::milliseconds(500);

/// channel/roundtrip's loop as an op: one ch.send() of `content` to an echo server. Used inside
/// the runtime that owns the channel.
class channel_round_trip {
  public:
    channel_round_trip(sim::channel& ch, const sim::value& content)
        : ch_(&ch), content_(&content) {}

    SIM_BENCH_OP void operator()() {
        sim::value reply = ch_->send(*content_);
        benchmark::DoNotOptimize(reply);
    }
    std::size_t payload_size() const { return frame_bytes; }
    std::string check() {
        return ch_->send(*content_) == *content_ ? "" : "the echo differs from the request";
    }

  private:
    sim::channel* ch_;
    const sim::value* content_;
};

/// channel/throughput's loop as an op: one batch of run_in_flight, in_flight_batch() requests.
class channel_in_flight {
  public:
    channel_in_flight(sim::channel& ch, const sim::value& content, int in_flight)
        : ch_(&ch), content_(&content), in_flight_(in_flight) {}

    SIM_BENCH_OP void operator()() {
        auto send = [this] { return ch_->send(*content_); };
        run_in_flight(in_flight_, in_flight_batch(in_flight_), send, error_);
    }
    std::size_t payload_size() const {
        return frame_bytes * static_cast<std::size_t>(in_flight_batch(in_flight_));
    }
    std::string check() {
        (*this)();
        if (!error_.empty()) return error_;
        return ch_->send(*content_) == *content_ ? "" : "the echo differs from the request";
    }

  private:
    sim::channel* ch_;
    const sim::value* content_;
    int in_flight_;
    std::string error_;
};

/// The name of the channel benchmark a floor stands for: "channel/roundtrip/unix/msgpack",
/// "channel/throughput/unix/msgpack/inflight:100".
inline std::string channel_benchmark_name(transport t, std::string_view codec, int in_flight) {
    const std::string at = transport_name(t) + "/" + std::string(codec);
    if (in_flight <= 1) return "channel/roundtrip/" + at;
    return "channel/throughput/" + at + "/inflight:" + std::to_string(in_flight);
}

/// ns per request of the channel benchmark `channel_benchmark_name(t, codec, in_flight)`
/// (in_flight 1: sequential round trips), measured once per process in a runtime of its own on
/// this thread, an echo server in the same runtime; NaN if that failed. The RPC benchmarks
/// compare themselves with it, so that both timings come from the same run even when a filter
/// skips the channel benchmarks.
inline double channel_ns_per_request(transport t, std::string_view codec, int in_flight) {
    const std::string key = channel_benchmark_name(t, codec, in_flight);
    if (auto it = floor_cache().find(key); it != floor_cache().end()) return it->second;
    double ns = std::numeric_limits<double>::quiet_NaN();
    try {
        const temp_dir dir;
        const sim::value content = request_content(codec);
        sim::runtime rt;
        rt.run([&] {
            auto srv = sim::start_server(listen_url(t, dir), echo_server, with_codec(codec));
            auto ch = sim::open_connection(srv.local_address(), with_codec(codec));
            if (in_flight <= 1) {
                ns = floor_ns_per_op(
                    key, [&] { return channel_round_trip(ch, content); }, channel_floor_budget);
            } else {
                // The cache holds it per request, not per batch: the key names the benchmark.
                channel_in_flight batch(ch, content, in_flight);
                ns = (batch.check().empty() ? measure_ns_per_op(batch, channel_floor_budget)
                                            : std::numeric_limits<double>::quiet_NaN()) /
                     static_cast<double>(in_flight_batch(in_flight));
                floor_cache().emplace(key, ns);
            }
            ch.close();
        });
    } catch (const std::exception&) {
        // NaN: the ratio shows that the floor failed; the benchmark itself reports its own error.
    }
    return ns;
}

}  // namespace sim::bench

#pragma once
// Shared helpers for sim-bench. Each bench/*.cpp registers its own benchmarks; this header only
// has the timing, reporting and scratch-directory pieces they share. Everything here is
// single-threaded.
//
// An "op" is an object with
//     SIM_BENCH_OP void operator()();     one operation (one message): the timed unit
//     std::size_t payload_size() const;   payload bytes one operation handles (for bytes/s)
//     std::string check();                setup validation: empty when the op is sound
// so that the same code runs as a Google Benchmark and as a floor measured for `ratio_to_floor`.

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <system_error>

#include <benchmark/benchmark.h>

/// Marks an op's `operator()`: one out-of-line copy, so the benchmark loop and the floor
/// measurement run the same machine code. Inlined into each caller the compiler optimises the
/// two copies differently (msgpack-cxx's packer of 8,192 doubles ran 3.5x apart that way).
#define SIM_BENCH_OP [[gnu::noinline]]

namespace sim::bench {

using bench_clock = std::chrono::steady_clock;

/// Wall time of `op` in ns: the median of five timed rounds that last `budget` together, after
/// a short warm-up. The median keeps one burst of interference from another process (a shared
/// machine) out of the floor. Batches double until one lasts a millisecond, so reading the clock
/// costs nothing.
template <class Op>
double measure_ns_per_op(Op& op, std::chrono::milliseconds budget = std::chrono::milliseconds(50)) {
    // Warm-up: caches, the allocator's free lists and the CPU clock settle before we time.
    const auto warm_until = bench_clock::now() + budget / 8;
    while (bench_clock::now() < warm_until)
        op();

    std::array<double, 5> rounds{};
    const auto round_budget = budget / static_cast<int>(rounds.size());
    std::uint64_t batch = 1;
    for (double& round : rounds) {
        std::uint64_t ops = 0;
        const auto start = bench_clock::now();
        auto now = start;
        while (now - start < round_budget) {
            const auto batch_start = now;
            for (std::uint64_t i = 0; i < batch; ++i)
                op();
            ops += batch;
            now = bench_clock::now();
            if (now - batch_start < std::chrono::milliseconds(1)) batch *= 2;
        }
        round = std::chrono::duration<double, std::nano>(now - start).count() /
                static_cast<double>(ops);
    }
    const auto median = rounds.begin() + rounds.size() / 2;
    std::nth_element(rounds.begin(), median, rounds.end());
    return *median;
}

/// Floor timings measured so far in this process, by key (the floor benchmark's name). Benchmarks
/// run one at a time on one thread, so a plain map is enough.
inline std::map<std::string, double, std::less<>>& floor_cache() {
    static std::map<std::string, double, std::less<>> cache;
    return cache;
}

/// The floor's ns/op, measured once per process on the op that `make_op()` returns, so that a
/// ratio compares two timings from the same run even when a filter skips the floor's own
/// benchmark. NaN when the floor op fails its check. Ops that take microseconds (I/O) want a
/// larger `budget`, or each of the five rounds holds too few ops for a stable median.
template <class MakeOp>
double floor_ns_per_op(std::string_view key, MakeOp make_op,
                       std::chrono::milliseconds budget = std::chrono::milliseconds(50)) {
    auto& cache = floor_cache();
    if (auto it = cache.find(key); it != cache.end()) return it->second;
    auto op = make_op();
    const double ns = op.check().empty() ? measure_ns_per_op(op, budget)
                                         : std::numeric_limits<double>::quiet_NaN();
    cache.emplace(std::string(key), ns);
    return ns;
}

/// Runs `op` as the benchmark loop, reports bytes/s (payload bytes per op, unless none) and
/// items/s (one message per op), and returns the loop's wall-clock ns/op for `ratio_to_floor`.
/// Skips the benchmark with an error, returning NaN, when the op fails its check.
template <class Op>
double run_op(benchmark::State& state, Op& op) {
    if (const std::string error = op.check(); !error.empty()) {
        state.SkipWithError(error.c_str());
        return std::numeric_limits<double>::quiet_NaN();
    }
    const auto start = bench_clock::now();
    for (auto _ : state)
        op();
    const auto elapsed = bench_clock::now() - start;

    const auto iterations = static_cast<std::int64_t>(state.iterations());
    // An op that moves no bytes (a fiber switch) would only print "bytes_per_second=0/s".
    if (op.payload_size() > 0) {
        state.SetBytesProcessed(iterations * static_cast<std::int64_t>(op.payload_size()));
    }
    state.SetItemsProcessed(iterations);
    if (iterations == 0) return std::numeric_limits<double>::quiet_NaN();
    return std::chrono::duration<double, std::nano>(elapsed).count() /
           static_cast<double>(iterations);
}

/// Wall-clock ns per iteration of a loop that ran `iterations` times in `elapsed`; NaN for an
/// empty loop, so that a ratio built on it shows as such instead of as infinity.
inline double ns_per_iteration(bench_clock::duration elapsed,
                               benchmark::IterationCount iterations) {
    if (iterations == 0) return std::numeric_limits<double>::quiet_NaN();
    return std::chrono::duration<double, std::nano>(elapsed).count() /
           static_cast<double>(iterations);
}

/// A fresh directory under /tmp, removed with everything in it when this goes: Unix sockets need
/// a path, and a fixed one would collide with another run of the benchmark.
class temp_dir {
  public:
    temp_dir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "sim-bench-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::filesystem::filesystem_error(
                "sim-bench: cannot create a temporary directory", pattern,
                std::error_code(errno, std::generic_category()));
        }
        path_ = pattern;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }

    const std::filesystem::path& path() const noexcept { return path_; }

  private:
    std::filesystem::path path_;
};

/// Names the floor in the label ("floor=msgpack-cxx") and reports our ns/op over the floor's,
/// with the floor's ns/op beside it so that the ratio can be checked.
inline void report_floor(benchmark::State& state, double our_ns, std::string_view floor_label,
                         double floor_ns) {
    state.SetLabel("floor=" + std::string(floor_label));
    state.counters["ratio_to_floor"] = our_ns / floor_ns;
    state.counters["floor_ns"] = floor_ns;
}

}  // namespace sim::bench

// sim-soak: a bounded soak. For --duration seconds (default 600, at most 3600) this process calls
// an RPC function in a child process at a fixed offered rate (default 100,000 calls/s) while a
// coordinated scenario steps beside it, and prints every --interval seconds (default 60) the calls
// done, the latency percentiles, the resident memory and open file descriptors of both processes
// and the steps done; at the end a summary with the RSS growth after the warm-up and a verdict.
// See docs/soak.md.
//
// Processes, threads, cores. Two processes on TCP loopback (127.0.0.1 only), NOT pinned: the
// kernel places every thread on any CPU of this process's affinity mask (printed at the start;
// two cores on the project's VMs), so the two ends of the RPC connection usually run on different
// cores, and share them with the scenario's threads. No busy-polling: threads block in the kernel
// when idle.
//   - the child (this program again, `--soak-child`): one sim::runtime thread serving
//     `echo(std::string)` with sim::rpc. It dies with this process (PR_SET_PDEATHSIG), ignores
//     SIGINT (the terminal sends it to the whole process group: this process decides), and is
//     killed and reaped on every exit path of this one.
//   - this process: the driver, one sim::runtime on the main thread: --in-flight caller fibers
//     (default 128) sharing ONE connection to the child (requests are pipelined on it), and a
//     reporter fiber. Beside it the scenario: two coordinated containers, each on a thread of its
//     own (sim::container_thread, TCP loopback), and a sim::coordinator on a third thread that
//     steps them to t = 0, 1, 2, ... (paced at --step-rate steps/s, default 1000; 0: as fast as it
//     goes). Each container holds --agents agents (default 8); at every step each agent calls
//     `ping` on its partner in the other container (held and delivered in rounds by the step
//     protocol) and on a neighbour in its own container (the same-container shortcut).
//
// Pacing and latency. The offered load is a token schedule, not "as fast as possible": call i is
// due at t0 + i / rate. A caller fiber takes the next slot, sleeps until it is due (if it is still
// ahead), sends, waits for the reply, and takes the next slot. When the callers fall behind, slots
// are taken late and the lateness counts: "from schedule" is reply time minus due time (no
// coordinated omission: a stall shows up in every call that should have been sent during it);
// "from send" is reply time minus the moment the call was actually made (the round trip alone).
// Both are reported; the headline figures are "from schedule". Histograms are log-linear with 64
// sub-buckets per power of two (values within 1.6%); max is exact.
//
// The floor, measured first, before the scenario and the RPC child start: a raw 64-byte ping-pong
// with an echo child over TCP loopback, blocking I/O, unpinned, one at a time
// (process_support.hpp's raw_remote_pingpong, the floor of agent/step/rpc and mosaik/* in
// sim-bench) and with --in-flight frames outstanding (the most raw 64-byte round trips two
// processes do per second with that much pipelining, without any codec or RPC layer). The echo
// child answers `--agent-child echo 0`, the role process_support.hpp starts, with the server
// sim-bench's echo child runs (process_support.hpp's serve_raw_echo).
//
// Memory. Every line samples VmRSS and RssAnon of both processes; the first interval is the
// warm-up, and the verdict compares its line with the last one, which is printed at the end of the
// schedule (the calls still out then are counted apart, as the drain, so that fibers ending are
// not in the sample).

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>
#include <boost/fiber/operations.hpp>

#include <sim/agent/agent.hpp>
#include <sim/agent/container.hpp>
#include <sim/agent/coordinator.hpp>
#include <sim/core/error.hpp>
#include <sim/rpc/connection.hpp>
#include <sim/rpc/proxy.hpp>
#include <sim/rpc/router.hpp>
#include <sim/runtime/runtime.hpp>

#include "bench_support.hpp"
#include "net_support.hpp"
#include "process_support.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

// ---- options -----------------------------------------------------------------------------------

struct options {
    int duration = 600;  // s
    int interval = 60;   // s
    std::int64_t rate = 100'000;
    int in_flight = 128;
    std::string codec = "msgpack";
    double step_rate = 1000;
    int agents = 8;
    std::int64_t rss_slack_kib = 2048;
};

constexpr int max_duration = 3600;

// ---- signals and the last-resort bound ---------------------------------------------------------

std::atomic<bool> interrupted{false};
std::atomic<pid_t> child_pid{0};  // for the alarm handler
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<pid_t>::is_always_lock_free);

extern "C" void on_interrupt(int) {
    interrupted.store(true);
}

// Fires only when the run overstays its duration by a wide margin (a hang): kills the child and
// ends the process at once. Async-signal-safe calls only.
extern "C" void on_alarm(int) {
    static const char msg[] = "sim-soak: still running long after --duration: giving up\n";
    [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
    if (pid_t p = child_pid.load(); p > 0) ::kill(p, SIGKILL);
    ::_exit(3);
}

void install_signals(int duration) {
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the process at once (the child with it)
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    struct sigaction alarm_sa {};
    alarm_sa.sa_handler = on_alarm;
    sigemptyset(&alarm_sa.sa_mask);
    ::sigaction(SIGALRM, &alarm_sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    // Floors (a few seconds), start-up, the run, the drain (calls time out after 10 s).
    ::alarm(static_cast<unsigned>(duration + 120));
}

// ---- /proc -------------------------------------------------------------------------------------

/// Resident memory of a process in KiB: VmRSS, and its anonymous part (RssAnon: heap, stacks;
/// the rest is mostly pages of the program and its libraries, which grow as code runs for the
/// first time). -1 when unknown (a zombie has neither).
struct rss {
    std::int64_t total = -1, anon = -1;
};

rss rss_of(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    rss r;
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("VmRSS:")) r.total = std::strtoll(line.c_str() + 6, nullptr, 10);
        if (line.starts_with("RssAnon:")) r.anon = std::strtoll(line.c_str() + 8, nullptr, 10);
    }
    return r;
}

/// Open file descriptors of `pid` (entries of /proc/<pid>/fd), or -1. For this process the
/// descriptor that reads the directory is not counted.
int open_fds(pid_t pid) {
    const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return -1;
    const std::string own = pid == ::getpid() ? std::to_string(::dirfd(d)) : std::string();
    int n = 0;
    while (const dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.' || e->d_name == own) continue;
        ++n;
    }
    ::closedir(d);
    return n;
}

/// The first three fields of /proc/loadavg: other work on a shared machine shows here.
std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
}

std::string affinity() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) != 0) return "unknown";
    std::string cpus;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &set)) cpus += (cpus.empty() ? "" : ",") + std::to_string(cpu);
    }
    return std::to_string(CPU_COUNT(&set)) + " CPUs (" + cpus + ")";
}

// ---- latency histogram -------------------------------------------------------------------------

/// Log-linear: exact below 64 ns, then 64 buckets per power of two (a value is known within
/// 1/64). Fixed size: recording never allocates.
class histogram {
  public:
    void record(std::uint64_t ns) noexcept {
        ++counts_[index(ns)];
        ++count_;
        max_ = std::max(max_, ns);
    }
    void merge(const histogram& o) noexcept {
        for (std::size_t i = 0; i < buckets; ++i)
            counts_[i] += o.counts_[i];
        count_ += o.count_;
        max_ = std::max(max_, o.max_);
    }
    void clear() noexcept {
        counts_.fill(0);
        count_ = 0;
        max_ = 0;
    }
    std::uint64_t count() const noexcept { return count_; }
    std::uint64_t max() const noexcept { return max_; }
    /// The value at percentile `p` (0-100): the top of its bucket, at most the maximum.
    std::uint64_t percentile(double p) const noexcept {
        if (count_ == 0) return 0;
        auto rank = static_cast<std::uint64_t>(std::ceil(p / 100 * static_cast<double>(count_)));
        rank = std::clamp<std::uint64_t>(rank, 1, count_);
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < buckets; ++i) {
            seen += counts_[i];
            if (seen >= rank) return std::min(top(i), max_);
        }
        return max_;
    }

  private:
    static constexpr int sub_bits = 6;
    static constexpr std::size_t sub = std::size_t{1} << sub_bits;
    static constexpr std::size_t buckets = (64 - sub_bits + 1) * sub;

    static std::size_t index(std::uint64_t v) noexcept {
        if (v < sub) return static_cast<std::size_t>(v);
        const int shift = 63 - std::countl_zero(v) - sub_bits;
        return static_cast<std::size_t>(shift + 1) * sub + static_cast<std::size_t>(v >> shift) -
               sub;
    }
    static std::uint64_t top(std::size_t i) noexcept {
        if (i < sub) return i;
        const auto shift = static_cast<int>(i / sub - 1);
        const std::uint64_t high = i % sub + sub + 1;
        return shift >= 57 ? UINT64_MAX : (high << shift) - 1;
    }

    std::array<std::uint64_t, buckets> counts_{};
    std::uint64_t count_ = 0;
    std::uint64_t max_ = 0;
};

/// "12.3": microseconds with three significant digits.
std::string us(std::uint64_t ns) {
    const double v = static_cast<double>(ns) / 1000;
    char buf[32];
    std::snprintf(buf, sizeof buf, v < 10 ? "%.2f" : v < 100 ? "%.1f" : "%.0f", v);
    return buf;
}

std::string percentiles(const histogram& h) {
    return "p50 " + us(h.percentile(50)) + " p90 " + us(h.percentile(90)) + " p99 " +
           us(h.percentile(99)) + " p99.9 " + us(h.percentile(99.9)) + " max " + us(h.max());
}

// ---- the child processes -----------------------------------------------------------------------

/// `--soak-child CODEC PARENT_PID`: serves echo(std::string) over TCP loopback, prints its URL.
int soak_child_main(int argc, char** argv) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::signal(SIGINT, SIG_IGN);
    if (argc < 4) return 2;
    const pid_t parent = static_cast<pid_t>(std::stol(argv[3]));
    if (::getppid() != parent) return 1;  // the parent went before prctl took effect
    const std::string codec = argv[2];
    // Outlives the runtime: the connection's fibers use it until they end.
    sim::rpc::router root;
    root.expose("echo", [](std::string s) { return s; });
    sim::runtime rt({.name = "soak-child"});
    return rt.run([&] {
        auto srv =
            sim::rpc::start_server("tcp://127.0.0.1:0", root, {}, sim::bench::with_codec(codec));
        std::printf("%s\n", srv.local_address().to_string().c_str());
        std::fflush(stdout);
        while (::getppid() == parent)
            boost::this_fiber::sleep_for(200ms);
        return 0;
    });
}

/// `--agent-child echo BUSY_US` (the role process_support.hpp's child starts): its raw echo over
/// TCP loopback, which serves one frame at a time and pipelined frames alike.
int echo_child_main(int argc, char** argv) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::signal(SIGINT, SIG_IGN);
    if (argc < 4 || std::string_view(argv[2]) != "echo") return 2;
    return sim::bench::serve_raw_echo(std::stoi(argv[3]) > 0);
}

/// The RPC child (`--soak-child`, process_support.hpp's child), started from the main thread
/// (PR_SET_PDEATHSIG fires when the thread that started the child ends, and the main thread lives
/// as long as the process); its pid is there for the alarm handler while it lives. Killed and
/// reaped when this goes.
class soak_child {
  public:
    explicit soak_child(const std::string& codec)
        : child_({std::filesystem::read_symlink("/proc/self/exe").string(), "--soak-child", codec,
                  std::to_string(::getpid())}) {
        if (!url().starts_with("tcp://127.0.0.1:"))
            throw std::runtime_error("the RPC child did not say where it listens");
        child_pid.store(child_.pid());
    }
    soak_child(const soak_child&) = delete;
    soak_child& operator=(const soak_child&) = delete;
    ~soak_child() { stop(); }

    void stop() noexcept {
        child_pid.store(0);
        child_.stop();
    }
    pid_t pid() const noexcept { return child_.pid(); }
    const std::string& url() const noexcept { return child_.where(); }

  private:
    sim::bench::child child_;
};

// ---- floors ------------------------------------------------------------------------------------

struct floors {
    double sequential_ns = NAN;  // one 64-byte round trip at a time
    double pipelined_per_s = NAN;
};

bool send_all(int fd, const char* p, std::size_t n) {
    while (n > 0) {
        const ssize_t w = ::send(fd, p, n, 0);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

/// 64-byte round trips per second with `in_flight` frames outstanding: whenever replies arrive,
/// as many frames go out again. The median of five rounds of 200 ms after 100 ms of warm-up, as
/// measure_ns_per_op takes the median for the other floors.
double raw_pipelined_per_s(int in_flight) {
    constexpr std::size_t frame = sim::bench::frame_bytes;
    sim::bench::child echo("echo", 0);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(echo.where())));
    std::vector<double> rounds;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        const std::vector<char> out(frame * static_cast<std::size_t>(in_flight), 'x');
        std::vector<char> in(64 * 1024);
        std::uint64_t received = 0, done = 0, done_at_round = 0;
        auto round_start = clock_type::now();
        auto round_end = round_start + 100ms;  // the warm-up
        bool warm = false, ok = send_all(fd, out.data(), out.size());
        while (ok && rounds.size() < 5) {
            const ssize_t n = ::recv(fd, in.data(), in.size(), 0);
            if (n <= 0) {
                ok = n < 0 && errno == EINTR;
                continue;
            }
            received += static_cast<std::uint64_t>(n);
            const std::uint64_t frames = received / frame - done;
            done += frames;
            if (const auto now = clock_type::now(); now >= round_end) {
                if (warm) {
                    rounds.push_back(static_cast<double>(done - done_at_round) /
                                     std::chrono::duration<double>(now - round_start).count());
                }
                warm = true;
                round_start = now;
                round_end = now + 200ms;
                done_at_round = done;
            }
            ok = send_all(fd, out.data(), frames * frame);
        }
    }
    ::close(fd);
    if (rounds.size() < 5) return NAN;
    std::nth_element(rounds.begin(), rounds.begin() + 2, rounds.end());
    return rounds[2];
}

floors measure_floors(int in_flight) {
    floors f;
    {
        sim::bench::raw_remote_pingpong raw(false);
        if (raw.check().empty()) f.sequential_ns = sim::bench::measure_ns_per_op(raw, 500ms);
    }
    f.pipelined_per_s = raw_pipelined_per_s(std::min(in_flight, 1024));
    return f;
}

// ---- the scenario ------------------------------------------------------------------------------

std::atomic<std::uint64_t> agent_calls{0};    // pings served by the scenario's agents
std::atomic<std::uint64_t> wrong_answers{0};  // pings answered with the wrong number

/// At every time unit: calls `ping` on its partner in the other container and on its neighbour
/// in its own.
class soak_agent : public sim::agent {
  public:
    soak_agent(sim::container& c, std::string partner, std::string neighbour)
        : agent(c), partner_(std::move(partner)), neighbour_(std::move(neighbour)) {
        expose("ping", [](std::int64_t k) {
            agent_calls.fetch_add(1, std::memory_order_relaxed);
            return k + 1;
        });
        start(&soak_agent::run);
    }

  private:
    void run() {
        std::optional<sim::proxy> partner, neighbour;
        for (std::int64_t k = 0;; ++k) {
            clock().sleep_for(1);
            // In the first step, once every agent of both containers exists.
            if (!partner) {
                partner.emplace(connect(partner_));
                neighbour.emplace(connect(neighbour_));
            }
            if (partner->call<std::int64_t>("ping", k) != k + 1) wrong_answers.fetch_add(1);
            if (neighbour->call<std::int64_t>("ping", k) != k + 1) wrong_answers.fetch_add(1);
        }
    }

    std::string partner_, neighbour_;
};

sim::container_options coordinated(std::string name) {
    sim::container_options o;
    o.name = std::move(name);
    o.clock = sim::virtual_time{"2026-01-01T00:00:00+00:00", 0};
    o.coordinated = true;
    o.seed = 1;
    return o;
}

/// Two coordinated containers on threads of their own, stepped by a coordinator on a third
/// thread until `stop()`.
class scenario_side {
  public:
    scenario_side(int agents, double step_rate)
        : a_("tcp://127.0.0.1:0", coordinated("A")),
          b_("tcp://127.0.0.1:0", coordinated("B")),
          step_rate_(step_rate) {
        for (int i = 0; i < agents; ++i) {
            const std::string mine = std::to_string(i);
            const std::string next = std::to_string((i + 1) % agents);
            a_.invoke([&](sim::container& c) {
                c.spawn<soak_agent>(b_.base_url() + mine, a_.base_url() + next);
            });
            b_.invoke([&](sim::container& c) {
                c.spawn<soak_agent>(a_.base_url() + mine, b_.base_url() + next);
            });
        }
        thread_ = std::thread([this] { run(); });
    }
    scenario_side(const scenario_side&) = delete;
    scenario_side& operator=(const scenario_side&) = delete;
    ~scenario_side() { stop(); }

    /// Ends the stepping after the current step and waits for it.
    void stop() noexcept {
        stop_.store(true);
        if (thread_.joinable()) thread_.join();
    }
    std::uint64_t steps() const noexcept { return steps_.load(std::memory_order_relaxed); }
    /// The longest step since the last call, in ns.
    std::uint64_t take_max_step_ns() noexcept { return max_step_ns_.exchange(0); }
    bool failed() const noexcept { return failed_.load(); }
    std::string error() const {
        std::lock_guard lock(mutex_);
        return error_;
    }

  private:
    void run() noexcept {
        try {
            sim::runtime rt({.name = "soak-coordinator"});
            rt.run([&] {
                sim::coordinator coord({a_.base_url(), b_.base_url()});
                double t = 0;
                std::optional<double> next = coord.step(t);
                steps_.fetch_add(1);
                // Paced: step n is due n / step_rate after the first. A late step is made up
                // for (timer slack averages out) but never more than 100 ms of them at once, so
                // that a stall is not followed by a burst.
                const auto period = std::chrono::duration_cast<clock_type::duration>(
                    std::chrono::duration<double>(step_rate_ > 0 ? 1 / step_rate_ : 0));
                auto due = clock_type::now();
                while (!stop_.load()) {
                    if (step_rate_ > 0) {
                        due = std::max(due + period, clock_type::now() - 100ms);
                        while (!stop_.load() && clock_type::now() < due)
                            boost::this_fiber::sleep_until(
                                std::min(due, clock_type::now() + 100ms));
                        if (stop_.load()) break;
                    }
                    if (next != t + 1) {
                        throw std::runtime_error("scenario: after the step to " +
                                                 std::to_string(t) + " the next event is " +
                                                 (next ? std::to_string(*next) : "none") +
                                                 ", not t + 1");
                    }
                    const auto begun = clock_type::now();
                    t += 1;
                    next = coord.step(t);
                    const auto took = static_cast<std::uint64_t>(
                        std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() -
                                                                             begun)
                            .count());
                    std::uint64_t seen = max_step_ns_.load();
                    while (took > seen && !max_step_ns_.compare_exchange_weak(seen, took)) {
                    }
                    steps_.fetch_add(1, std::memory_order_relaxed);
                }
            });
        } catch (const std::exception& e) {
            std::lock_guard lock(mutex_);
            error_ = e.what();
            failed_.store(true);
        }
    }

    sim::container_thread a_, b_;
    double step_rate_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> failed_{false};
    std::atomic<std::uint64_t> steps_{0};
    std::atomic<std::uint64_t> max_step_ns_{0};
    mutable std::mutex mutex_;
    std::string error_;
    std::thread thread_;
};

// ---- the driver --------------------------------------------------------------------------------

/// One line's worth of the processes' state.
struct sample {
    double elapsed_s = 0;
    rss parent, child;
    int fds_parent = 0, fds_child = 0;
};

/// Everything the driver's fibers share. Lives on the main thread's stack (the histograms are
/// too large for a fiber's), used only on the driver's runtime thread.
struct soak_state {
    const options* opt = nullptr;
    clock_type::time_point t0;
    std::uint64_t slots = 0;  // calls in the schedule: duration * rate
    std::uint64_t next_slot = 0, started = 0;
    histogram sched_iv, send_iv, sched_all, send_all;
    std::uint64_t done_iv = 0, done_all = 0, timeouts_iv = 0, timeouts_all = 0;
    std::uint64_t drained = 0;  // calls that came back after the last line
    std::uint64_t wrong_echoes = 0;
    std::string error;  // the first failure that stopped the run
    bool stopping = false;
    bool last_line_out = false;  // the line at the end of the schedule is printed
    int running = 0;
    boost::fibers::mutex mutex;  // for the condition variable; one thread needs no lock
    boost::fibers::condition_variable callers_done;
    // Reporting.
    clock_type::time_point last_line;
    std::uint64_t last_steps = 0, last_agent_calls = 0;
    std::vector<sample> samples;
};

clock_type::time_point due_time(const soak_state& s, std::uint64_t slot) {
    // slot * 1e9 / rate without overflow: slot reaches 3.6e10 at the largest rate.
    const auto rate = static_cast<std::uint64_t>(s.opt->rate);
    const std::uint64_t ns = slot / rate * 1'000'000'000u + slot % rate * 1'000'000'000u / rate;
    return s.t0 + std::chrono::nanoseconds(static_cast<std::int64_t>(ns));
}

std::uint64_t ns_between(clock_type::time_point from, clock_type::time_point to) {
    return to > from ? static_cast<std::uint64_t>(
                           std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count())
                     : 0;
}

bool should_stop(const soak_state& s, const scenario_side& scenario) {
    return s.stopping || interrupted.load() || scenario.failed();
}

/// Sleeps until `until`, waking every 100 ms to look at `stop()`; false when stopped.
template <class Stop>
bool sleep_until(clock_type::time_point until, Stop stop) {
    for (;;) {
        if (stop()) return false;
        const auto now = clock_type::now();
        if (now >= until) return true;
        boost::this_fiber::sleep_until(std::min(until, now + 100ms));
    }
}

void caller(soak_state& s, const scenario_side& scenario, const sim::proxy& remote,
            const std::string& text) {
    const auto stop = [&] { return should_stop(s, scenario); };
    while (!stop()) {
        const std::uint64_t slot = s.next_slot++;
        if (slot >= s.slots) {
            // Out of slots: wait for the last line in the sleep the callers take all along, so
            // that this fiber's way out is not in the memory that line reports.
            while (!s.last_line_out && !stop())
                boost::this_fiber::sleep_for(1ms);
            break;
        }
        const auto due = due_time(s, slot);
        if (clock_type::now() < due && !sleep_until(due, stop)) break;
        ++s.started;
        const auto sent = clock_type::now();
        try {
            if (remote.call<std::string>("echo", text) != text) ++s.wrong_echoes;
        } catch (const sim::timeout_error&) {
            ++s.timeouts_iv;
            continue;
        } catch (const std::exception& e) {
            if (s.error.empty()) s.error = std::string("a call failed: ") + e.what();
            s.stopping = true;
            break;
        }
        const auto done = clock_type::now();
        s.sched_iv.record(ns_between(due, done));
        s.send_iv.record(ns_between(sent, done));
        ++s.done_iv;
    }
}

/// Prints one interval's line and starts the next interval. False when the child is gone (a
/// zombie has no VmRSS).
bool report_line(soak_state& s, scenario_side& scenario, pid_t child) {
    const auto now = clock_type::now();
    const double elapsed = std::chrono::duration<double>(now - s.t0).count();
    const double span = std::chrono::duration<double>(now - s.last_line).count();
    sample m{elapsed, rss_of(::getpid()), rss_of(child), open_fds(::getpid()), open_fds(child)};
    const std::uint64_t steps = scenario.steps();
    const std::uint64_t calls = agent_calls.load();
    const double max_step_ms = static_cast<double>(scenario.take_max_step_ns()) / 1e6;
    // Due and not yet sent.
    const auto due_now = std::min<std::uint64_t>(
        s.slots,
        static_cast<std::uint64_t>(std::max(0.0, elapsed) * static_cast<double>(s.opt->rate)) + 1);
    const std::uint64_t behind = due_now > s.started ? due_now - s.started : 0;
    const double rate = static_cast<double>(s.done_iv) / span;
    std::printf(
        "[%6.0f s] calls %llu = %.0f/s (%.1f%% of %lld/s), behind %llu, timeouts %llu | from "
        "schedule us %s | from send us %s | RSS KiB parent %lld (anon %lld) child %lld (anon "
        "%lld) | fds parent %d child "
        "%d | steps %llu = %.0f/s (longest %.2f ms), agent calls %llu\n",
        elapsed, static_cast<unsigned long long>(s.done_iv), rate,
        100 * rate / static_cast<double>(s.opt->rate), static_cast<long long>(s.opt->rate),
        static_cast<unsigned long long>(behind), static_cast<unsigned long long>(s.timeouts_iv),
        percentiles(s.sched_iv).c_str(), percentiles(s.send_iv).c_str(),
        static_cast<long long>(m.parent.total), static_cast<long long>(m.parent.anon),
        static_cast<long long>(m.child.total), static_cast<long long>(m.child.anon), m.fds_parent,
        m.fds_child, static_cast<unsigned long long>(steps - s.last_steps),
        static_cast<double>(steps - s.last_steps) / span, max_step_ms,
        static_cast<unsigned long long>(calls - s.last_agent_calls));
    std::fflush(stdout);
    s.samples.push_back(m);
    s.sched_all.merge(s.sched_iv);
    s.send_all.merge(s.send_iv);
    s.sched_iv.clear();
    s.send_iv.clear();
    s.done_all += s.done_iv;
    s.timeouts_all += s.timeouts_iv;
    s.done_iv = s.timeouts_iv = 0;
    s.last_line = now;
    s.last_steps = steps;
    s.last_agent_calls = calls;
    return m.child.total >= 0;
}

/// The driver: runs on the calling (main) thread until the schedule is done or the run stops.
void drive(soak_state& s, scenario_side& scenario, const soak_child& child) {
    const options& o = *s.opt;
    sim::runtime rt({.name = "soak-driver"});
    rt.run([&] {
        sim::channel_options co = sim::bench::with_codec(o.codec);
        co.default_timeout = 10s;
        auto conn = sim::rpc::open_connection(child.url(), nullptr, co);
        const sim::proxy remote = conn.remote();
        // echo's argument: the request frame is the benchmarks' 64 bytes for a 5-digit id.
        std::size_t chars = 0;
        sim::bench::content_of_frame_size(o.codec, [&](std::size_t n) {
            chars = n;
            return sim::value(sim::array{"echo", sim::array{std::string(n, 'x')}, sim::map{}});
        });
        const std::string text(chars, 'x');
        if (remote.call<std::string>("echo", text) != text)
            throw std::runtime_error("the child's echo differs from the request");

        s.t0 = clock_type::now() + 10ms;
        s.last_line = s.t0;
        s.slots = static_cast<std::uint64_t>(o.duration) * static_cast<std::uint64_t>(o.rate);
        s.running = o.in_flight;
        // The last line comes at the end of the schedule, as every other one at its boundary, while
        // the callers still run: its memory is the run's, not that of the drain and of fibers
        // ending (each one's way out touches a stack page more: in_flight x ~3.5 KiB, once). The
        // calls still out then (in flight or behind) are counted apart, as the drain.
        bool done = false;
        for (int i = 0; i < o.in_flight; ++i) {
            sim::spawn([&] {
                caller(s, scenario, remote, text);
                std::unique_lock lock(s.mutex);
                if (--s.running == 0) s.callers_done.notify_all();
            });
        }
        sim::spawn([&] {
            const auto stop = [&] { return should_stop(s, scenario); };
            for (int k = 1;; ++k) {
                const int at = std::min(k * o.interval, o.duration);
                const bool on_time = sleep_until(s.t0 + std::chrono::seconds(at), stop);
                if (!report_line(s, scenario, child.pid())) {
                    if (s.error.empty()) s.error = "the RPC child is gone";
                    s.stopping = true;
                }
                if (!on_time || at == o.duration) break;
            }
            s.last_line_out = true;
            std::unique_lock lock(s.mutex);
            s.callers_done.wait(lock, [&] { return s.running == 0; });
            s.drained = s.done_iv;
            s.sched_all.merge(s.sched_iv);
            s.send_all.merge(s.send_iv);
            s.timeouts_all += s.timeouts_iv;
            done = true;
            s.callers_done.notify_all();
        });
        std::unique_lock lock(s.mutex);
        s.callers_done.wait(lock, [&] { return done; });
        lock.unlock();
        conn.close();
    });
}

// ---- the summary -------------------------------------------------------------------------------

/// Least-squares slope of `y(sample)` over time, per minute.
template <class Y>
double slope_per_min(const std::vector<sample>& v, Y y) {
    if (v.size() < 2) return NAN;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const sample& m : v) {
        const double x = m.elapsed_s / 60;
        const auto yv = static_cast<double>(y(m));
        sx += x;
        sy += yv;
        sxx += x * x;
        sxy += x * yv;
    }
    const auto n = static_cast<double>(v.size());
    const double d = n * sxx - sx * sx;
    if (d == 0) return NAN;
    return std::round((n * sxy - sx * sy) / d * 10) / 10 + 0.0;  // one decimal, never "-0.0"
}

/// One process's memory from the first sample (the end of the warm-up) to the last; returns the
/// VmRSS growth in KiB.
template <class Get>
std::int64_t print_memory(const char* who, const std::vector<sample>& v, Get get) {
    const rss& base = get(v.front());
    const rss& last = get(v.back());
    std::int64_t peak = 0;
    for (const sample& m : v)
        peak = std::max(peak, get(m).total);
    std::printf(
        "  %s: VmRSS %lld -> %lld KiB (%+lld, peak %lld, slope %+.1f KiB/min), of it anonymous "
        "%lld -> %lld KiB (%+lld)\n",
        who, static_cast<long long>(base.total), static_cast<long long>(last.total),
        static_cast<long long>(last.total - base.total), static_cast<long long>(peak),
        slope_per_min(v, [&](const sample& m) { return get(m).total; }),
        static_cast<long long>(base.anon), static_cast<long long>(last.anon),
        static_cast<long long>(last.anon - base.anon));
    return last.total - base.total;
}

int summarize(const soak_state& s, const floors& f, scenario_side& scenario, double wall_s) {
    const options& o = *s.opt;
    const double rate = static_cast<double>(s.done_all) / wall_s;
    std::printf("\nsummary\n");
    std::printf(
        "  calls: %llu back in %.1f s = %.0f/s, %.1f%% of the target %lld/s, and %llu more back "
        "after it (in flight or behind at the end; %llu scheduled%s); timeouts %llu, wrong echoes "
        "%llu\n",
        static_cast<unsigned long long>(s.done_all), wall_s, rate,
        100 * rate / static_cast<double>(o.rate), static_cast<long long>(o.rate),
        static_cast<unsigned long long>(s.drained), static_cast<unsigned long long>(s.slots),
        interrupted.load() ? ", interrupted" : "", static_cast<unsigned long long>(s.timeouts_all),
        static_cast<unsigned long long>(s.wrong_echoes));
    std::printf("  load average at the end: %s\n", load_average().c_str());
    std::printf("  latency from schedule, us: %s\n", percentiles(s.sched_all).c_str());
    std::printf("  latency from send, us:     %s\n", percentiles(s.send_all).c_str());
    std::printf(
        "  floor (before the run): raw 64-byte ping-pong one at a time %.1f us "
        "(%.0f/s); %d in flight %.0f/s. Achieved RPC rate / pipelined raw floor: %.2f\n",
        f.sequential_ns / 1000, 1e9 / f.sequential_ns, std::min(o.in_flight, 1024),
        f.pipelined_per_s, rate / f.pipelined_per_s);
    std::printf(
        "  scenario: %llu steps (%.0f/s, target %s), %llu agent calls, %llu wrong answers\n",
        static_cast<unsigned long long>(scenario.steps()),
        static_cast<double>(scenario.steps()) / wall_s,
        o.step_rate > 0 ? (std::to_string(static_cast<long long>(o.step_rate)) + "/s").c_str()
                        : "none: not paced",
        static_cast<unsigned long long>(agent_calls.load()),
        static_cast<unsigned long long>(wrong_answers.load()));

    int rc = 0;
    const auto& v = s.samples;
    if (v.size() < 2) {
        std::printf("RSS flat: n/a (one interval only: nothing after the warm-up interval)\n");
    } else {
        // Warm-up: the first interval. Growth: from its end to the end of the run.
        std::printf(
            "  memory after the warm-up (the first interval, to %.0f s) -> the end (%.0f s):\n",
            v.front().elapsed_s, v.back().elapsed_s);
        const std::int64_t grow_parent =
            print_memory("parent", v, [](const sample& m) -> const rss& { return m.parent; });
        const std::int64_t grow_child =
            print_memory("child ", v, [](const sample& m) -> const rss& { return m.child; });
        std::printf("  open fds after the warm-up -> the end: parent %d -> %d, child %d -> %d\n",
                    v.front().fds_parent, v.back().fds_parent, v.front().fds_child,
                    v.back().fds_child);
        const bool flat = grow_parent <= o.rss_slack_kib && grow_child <= o.rss_slack_kib;
        std::printf(
            "RSS flat: %s (growth %lld KiB: parent %+lld KiB, child %+lld KiB; allowed %lld KiB "
            "each)\n",
            flat ? "yes" : "no", static_cast<long long>(grow_parent + grow_child),
            static_cast<long long>(grow_parent), static_cast<long long>(grow_child),
            static_cast<long long>(o.rss_slack_kib));
        if (!flat) rc = 2;
    }
    if (!s.error.empty()) std::printf("FAILED: %s\n", s.error.c_str());
    if (scenario.failed()) std::printf("FAILED: %s\n", scenario.error().c_str());
    if (!s.error.empty() || scenario.failed() || wrong_answers.load() > 0 || s.wrong_echoes > 0)
        return 1;
    if (interrupted.load()) return 130;
    return rc;
}

int soak_main(const options& o) {
    install_signals(o.duration);
    std::printf(
        "sim-soak: %lld calls/s offered for %d s, reports every %d s; %d caller fibers in flight "
        "on one connection; echo(%s) over TCP loopback, %s\n",
        static_cast<long long>(o.rate), o.duration, o.interval, o.in_flight, "std::string",
        o.codec.c_str());
    std::printf(
        "  two processes (the RPC's two ends never share a thread), not pinned: the kernel places "
        "their threads on %s, so they may or may not share a core; no busy-polling. "
        "Parent: driver thread (all callers), coordinator thread, two container threads; child: "
        "one runtime thread serving echo\n",
        affinity().c_str());
    std::printf(
        "  scenario: 2 coordinated containers x %d agents, each agent pings one agent in the other "
        "container and one in its own per step; steps %s\n",
        o.agents,
        o.step_rate > 0
            ? ("paced at " + std::to_string(static_cast<long long>(o.step_rate)) + "/s").c_str()
            : "not paced (as fast as they go)");
    std::printf(
        "  load average %s at the start\n"
        "  latency: \"from schedule\" = reply - due time (call i due at t0 + i/rate), \"from "
        "send\" = reply - send; RSS warm-up = the first interval\n",
        load_average().c_str());
    std::fflush(stdout);

    const floors f = measure_floors(o.in_flight);
    std::printf(
        "floor (before the run: no scenario, no RPC child): raw 64-byte ping-pong with an echo "
        "child, TCP loopback, blocking, unpinned: %.1f us one at a time (%.0f/s); %d in flight: "
        "%.0f round trips/s\n",
        f.sequential_ns / 1000, 1e9 / f.sequential_ns, std::min(o.in_flight, 1024),
        f.pipelined_per_s);
    std::fflush(stdout);

    soak_state s;
    s.opt = &o;
    s.samples.reserve(static_cast<std::size_t>(o.duration / o.interval) + 2);
    soak_child child(o.codec);
    std::printf("child pid %d serving at %s; parent pid %d\n", child.pid(), child.url().c_str(),
                ::getpid());
    std::fflush(stdout);
    scenario_side scenario(o.agents, o.step_rate);
    try {
        drive(s, scenario, child);
    } catch (const std::exception& e) {
        s.error = e.what();
    }
    const double wall_s = std::chrono::duration<double>(s.last_line - s.t0).count();
    scenario.stop();
    child.stop();
    return summarize(s, f, scenario, wall_s > 0 ? wall_s : 1);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::string_view(argv[1]) == "--soak-child") return soak_child_main(argc, argv);
    if (argc > 1 && std::string_view(argv[1]) == "--agent-child")
        return echo_child_main(argc, argv);

    options o;
    CLI::App app{
        "sim-soak: a bounded soak. RPC calls at a fixed rate to a child process over TCP loopback, "
        "a coordinated scenario stepping beside them; RSS, open fds and latency percentiles every "
        "interval, and whether RSS stayed flat after the warm-up (the first interval)."};
    app.add_option("--duration", o.duration, "seconds to run (default 600, at most 3600)")
        ->check(CLI::Range(1, max_duration));
    app.add_option("--interval", o.interval, "seconds between reports (default 60)")
        ->check(CLI::Range(1, max_duration));
    app.add_option("--rate", o.rate, "calls per second offered (default 100000)")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{10'000'000}));
    app.add_option("--in-flight", o.in_flight,
                   "caller fibers, each one call at a time (default 128)")
        ->check(CLI::Range(1, 100'000));
    app.add_option("--codec", o.codec, "json or msgpack (default msgpack)")
        ->check(CLI::IsMember({"json", "msgpack"}));
    app.add_option("--step-rate", o.step_rate,
                   "scenario steps per second (default 1000; 0: as fast as they go)")
        ->check(CLI::Range(0.0, 1e6));
    app.add_option("--agents", o.agents, "agents per container (default 8)")
        ->check(CLI::Range(1, 10'000));
    app.add_option("--rss-slack", o.rss_slack_kib,
                   "KiB each process's RSS may grow after the warm-up and count as flat "
                   "(default 2048)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 30));
    app.footer(
        "Exit status: 0 done, RSS flat; 2 done, RSS not flat; 1 a call or step failed or answered "
        "wrongly; 130 interrupted (SIGINT, SIGTERM: the summary is still printed); 3 still running "
        "120 s after --duration (a hang: ended by SIGALRM).");
    try {
        app.parse(argc, argv);
        if (o.interval > o.duration)
            throw CLI::ValidationError("--interval", "longer than --duration");
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        return soak_main(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sim-soak: %s\n", e.what());
        return 1;
    }
}

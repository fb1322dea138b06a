#include <sim/scenario/runner.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <boost/fiber/operations.hpp>

#include <sim/agent/container.hpp>
#include <sim/agent/coordinator.hpp>
#include <sim/agent/rng.hpp>
#include <sim/clock/utc_time.hpp>
#include <sim/codec/codec.hpp>
#include <sim/codec/number.hpp>
#include <sim/core/error.hpp>
#include <sim/core/log.hpp>
#include <sim/rpc/connection.hpp>
#include <sim/runtime/wait_queue.hpp>

#include "scenario/runner_service.hpp"

extern char** environ;

namespace sim {

namespace {

std::string json_string(const std::string& s) {
    auto codec = make_codec("json");
    auto b = codec->encode(value(s));
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace

std::string run_summary::to_json() const {
    return fmt::format(
        "{{\n  \"scenario\": {},\n  \"seed\": {},\n  \"sim_time\": {},\n  \"steps\": {},\n"
        "  \"messages\": {},\n  \"wakeups\": {},\n  \"agents\": {},\n  \"wall_seconds\": {:.3f},\n"
        "  \"steps_per_second\": {:.1f},\n  \"messages_per_second\": {:.1f},\n"
        "  \"events_per_second\": {:.1f},\n  \"peak_rss_bytes\": {},\n  \"interrupted\": {},\n"
        "  \"realtime\": {},\n  \"max_lag_seconds\": {:.6f},\n  \"mean_lag_seconds\": {:.6f}\n}}\n",
        json_string(scenario), seed, sim_time, steps, messages, wakeups, agents, wall_seconds,
        wall_seconds > 0 ? static_cast<double>(steps) / wall_seconds : 0.0,
        wall_seconds > 0 ? static_cast<double>(messages) / wall_seconds : 0.0,
        wall_seconds > 0 ? static_cast<double>(messages + wakeups) / wall_seconds : 0.0,
        peak_rss_bytes, interrupted ? "true" : "false", realtime ? "true" : "false", max_lag,
        mean_lag);
}

namespace {

using clock_type = std::chrono::steady_clock;

// One agent of the scenario: where it lives and what it is made with.
struct planned_agent {
    std::size_t group = 0;
    std::size_t index = 0;      // within the group
    std::size_t container = 0;  // index into the scenario's containers
    std::string id;
    std::string address;
};

std::size_t peak_rss() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<std::size_t>(u.ru_maxrss) * 1024;
}

value draw(const scenario_param& p, sim::rng& r) {
    switch (p.k) {
        case scenario_param::kind::constant:
            return p.constant;
        case scenario_param::kind::uniform:
            return value(p.a + (p.b - p.a) * r.uniform());
        case scenario_param::kind::normal: {
            // Box-Muller on two uniforms in (0, 1]: the same numbers on every platform.
            double u1 = 1.0 - r.uniform(), u2 = r.uniform();
            return value(p.a + p.b * std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2));
        }
        case scenario_param::kind::randint: {
            auto lo = static_cast<std::int64_t>(p.a), hi = static_cast<std::int64_t>(p.b);
            if (hi < lo) std::swap(lo, hi);
            return value(
                lo + static_cast<std::int64_t>(r.below(static_cast<std::uint64_t>(hi - lo + 1))));
        }
        case scenario_param::kind::choice: {
            const array& options = p.constant.as_array();
            return options[r.below(options.size())];
        }
    }
    return {};
}

std::string csv_field(const value& v) {
    if (v.is_nil()) return "";
    if (const auto* s = v.get_if<std::string>()) {
        if (s->find_first_of(",\"\n") == std::string::npos) return *s;
        std::string out = "\"";
        for (char ch : *s) {
            if (ch == '"') out += '"';
            out += ch;
        }
        return out + "\"";
    }
    return to_display_string(v);
}

// One recording: a file and what goes in it.
class recording {
  public:
    recording(const scenario_record& spec, const std::filesystem::path& dir)
        : spec_(spec), jsonl_(spec.to.ends_with(".jsonl")), json_(make_codec("json")) {
        out_.open(dir / spec.to, std::ios::trunc);
        if (!out_) throw std::runtime_error("cannot write " + (dir / spec.to).string());
        if (!jsonl_) {
            out_ << "time";
            if (spec.reduce.empty()) out_ << ",agent";
            for (const auto& o : spec.observe)
                out_ << "," << (spec.reduce.empty() ? o : spec.reduce + "_" + o);
            out_ << "\n";
        }
    }
    const scenario_record& spec() const { return spec_; }

    // rows: per agent of the group, in order, its values of `observe`.
    void write(double t, const std::string& group, const std::vector<std::vector<value>>& rows) {
        if (!spec_.reduce.empty()) {
            std::vector<value> reduced;
            for (std::size_t k = 0; k < spec_.observe.size(); ++k)
                reduced.push_back(reduce(rows, k));
            line(t, "", reduced);
        } else {
            if (spec_.on_change && last_.size() != rows.size()) last_.assign(rows.size(), {});
            for (std::size_t i = 0; i < rows.size(); ++i) {
                if (spec_.on_change) {
                    if (last_[i] == rows[i]) continue;
                    last_[i] = rows[i];
                }
                line(t, group + "/" + std::to_string(i), rows[i]);
            }
        }
    }
    void flush() { out_.flush(); }

  private:
    value reduce(const std::vector<std::vector<value>>& rows, std::size_t k) const {
        if (spec_.reduce == "count") {
            std::int64_t n = 0;
            for (const auto& r : rows) {
                const value& v = r[k];
                if (v.is_bool() ? v.as_bool()
                                : (!v.is_nil() && !(v.is_number() && v.as<double>() == 0)))
                    ++n;
            }
            return value(n);
        }
        double acc = spec_.reduce == "min" ? INFINITY : spec_.reduce == "max" ? -INFINITY : 0;
        bool all_int = true;
        for (const auto& r : rows) {
            const value& v = r[k];
            double x = v.is_bool() ? (v.as_bool() ? 1.0 : 0.0) : v.as<double>();
            all_int = all_int && (v.is_bool() || v.is_integer());
            if (spec_.reduce == "min") {
                acc = std::min(acc, x);
            } else if (spec_.reduce == "max") {
                acc = std::max(acc, x);
            } else {
                acc += x;
            }
        }
        if (spec_.reduce == "mean")
            return value(rows.empty() ? 0.0 : acc / static_cast<double>(rows.size()));
        if (all_int && std::isfinite(acc)) return value(static_cast<std::int64_t>(acc));
        return value(acc);
    }

    void line(double t, const std::string& agent, const std::vector<value>& values) {
        if (jsonl_) {
            map m;
            m.insert_or_assign(value("time"), number_value(t));
            if (!agent.empty()) m.insert_or_assign(value("agent"), value(agent));
            for (std::size_t k = 0; k < values.size(); ++k) {
                std::string key =
                    spec_.reduce.empty() ? spec_.observe[k] : spec_.reduce + "_" + spec_.observe[k];
                m.insert_or_assign(value(key), values[k]);
            }
            auto b = json_->encode(value(std::move(m)));
            out_.write(reinterpret_cast<const char*>(b.data()),
                       static_cast<std::streamsize>(b.size()));
            out_ << "\n";
            return;
        }
        out_ << number_text(t);
        if (!agent.empty()) out_ << "," << agent;
        for (const auto& v : values)
            out_ << "," << csv_field(v);
        out_ << "\n";
    }

    const scenario_record& spec_;
    bool jsonl_;
    std::unique_ptr<codec> json_;
    std::ofstream out_;
    std::vector<std::vector<value>> last_;
};

std::string local_name(const scenario& s, const scenario_container& c) {
    static std::atomic<int> runs{0};
    return fmt::format("local://{}-{}-{}-{}", s.name, c.name, ::getpid(), runs++);
}

// ---- where containers run -----------------------------------------------------------------------

// How long the runner waits on its containers, and whether it has been told to stop. A stop is
// honoured between steps. When the run makes no progress for `grace` after a stop (a step or a
// container that hangs), its watcher abandons every wait, so that such a run still ends within
// a second of Ctrl-C; a run that moves (steps, waves, answers) is left to end its step.
struct run_control {
    const std::atomic<bool>* stop = nullptr;
    std::chrono::milliseconds timeout{std::chrono::seconds(60)};
    std::chrono::milliseconds grace{300};
    std::uint64_t progress = 0;  // steps, waves and answers from containers so far
    bool aborted = false;        // the watcher has abandoned the waits

    bool stopped() const noexcept { return stop != nullptr && stop->load(); }
};

// A wait given up because the run was told to stop: the run ends as interrupted, not failed.
struct run_abandoned : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// One agent to make: its type, its arguments, the id the plan gave it.
struct spawn_request {
    std::string type;
    map kwargs;
    std::string id;
    const scenario_agents* group;
};

// A container of the scenario, in a thread of this process or in a process of its own.
class host {
  public:
    virtual ~host() = default;
    virtual const std::string& base_url() const = 0;
    /// The first id its agents get (a process container's manager is agent 0).
    virtual std::size_t first_id() const = 0;
    virtual void spawn(std::vector<spawn_request>& requests) = 0;
    virtual std::vector<std::string> observables(const std::string& id) = 0;
    virtual void release_starts() = 0;
    virtual std::vector<std::vector<value>> observe(const std::vector<std::string>& ids,
                                                    const std::vector<std::string>& names) = 0;
    virtual std::pair<std::uint64_t, std::uint64_t> stats() = 0;  // calls served, wake-ups
    virtual void shut_down() = 0;
    /// The run must end now (a signal while a wait hangs): fail every wait on this container at
    /// once and shut it down without asking it.
    virtual void abort() noexcept = 0;
};

[[noreturn]] void cannot_make(const spawn_request& r, const std::string& why) {
    throw scenario_error(
        {r.group->where.to_string() + ": cannot make an agent of type \"" + r.type + "\": " + why});
}

class thread_host final : public host {
  public:
    thread_host(const std::string& address, container_options o, run_control& control)
        : control_(control), thread_(address, std::move(o)) {
        wait("holding its agents' starts", thread_.async([](container& c) { c.hold_starts(); }));
    }
    const std::string& base_url() const override { return thread_.base_url(); }
    std::size_t first_id() const override { return 0; }
    void spawn(std::vector<spawn_request>& requests) override {
        wait("making its agents",
             thread_.async([types = types_, requests = std::move(requests)](container& c) mutable {
                 for (auto& r : requests) {
                     try {
                         agent& made = types->spawn(c, r.type, {}, std::move(r.kwargs));
                         if (made.id() != r.id) throw std::logic_error("agent ids out of plan");
                     } catch (const sim::error& e) {
                         cannot_make(r, e.what());
                     }
                 }
             }));
    }
    std::vector<std::string> observables(const std::string& id) override {
        return wait("naming its observables",
                    thread_.async([id](container& c) { return detail::observables_of(c, id); }));
    }
    void release_starts() override {
        wait("starting its agents", thread_.async([](container& c) { c.release_starts(); }));
    }
    std::vector<std::vector<value>> observe(const std::vector<std::string>& ids,
                                            const std::vector<std::string>& names) override {
        return wait("being observed", thread_.async([ids, names](container& c) {
            return detail::observe(c, ids, names);
        }));
    }
    std::pair<std::uint64_t, std::uint64_t> stats() override {
        return wait("counting", thread_.async([](container& c) {
            const detail::container_stats s = detail::stats_of(c);
            return std::pair<std::uint64_t, std::uint64_t>(s.calls, s.wakeups);
        }));
    }
    void shut_down() override {}
    void abort() noexcept override {
        // The container's thread may be the one that hangs: do not wait long for it.
        thread_.shutdown_timeout = std::chrono::milliseconds(500);
    }
    const agent_registry* types_ = nullptr;

  private:
    // Waits for the container's thread, in slices, so that an abandoned run is seen at once.
    template <class R>
    R wait(const char* what, boost::fibers::future<R> done) {
        const auto until = clock_type::now() + control_.timeout;
        while (done.wait_for(std::chrono::milliseconds(20)) !=
               boost::fibers::future_status::ready) {
            if (control_.aborted) {
                throw run_abandoned("container " + thread_.name() + " was " + what);
            }
            if (clock_type::now() >= until) {
                throw timeout_error(fmt::format("container {} did not finish {} within {} ms",
                                                thread_.name(), what, control_.timeout.count()));
            }
        }
        ++control_.progress;
        return done.get();
    }

    run_control& control_;
    container_thread thread_;
};

// A container in a child process: the runner's own program started as a container
// (`run_options::container_command`), driven over RPC through its manager and `runner/...`.
class process_host final : public host {
  public:
    process_host(const std::vector<std::string>& command, const scenario_container& spec,
                 const std::string& address, const scenario& s, std::uint64_t seed,
                 run_control& control)
        : control_(control) {
        std::vector<std::string> argv = command;
        for (const std::string& a :
             {std::string("--address"), address, std::string("--name"), spec.name,
              std::string("--codec"), spec.codec, std::string("--virtual"), s.clock.start,
              std::string("--seed"), std::to_string(seed), std::string("--coordinated"),
              std::string("--hold-starts"), std::string("--parent"), std::to_string(::getpid())})
            argv.push_back(a);
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
        // Its own process group: a Ctrl-C at the terminal goes to the runner, which ends the
        // run in order and then stops its containers.
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attr, 0);
        std::vector<char*> args;
        for (auto& a : argv)
            args.push_back(a.data());
        args.push_back(nullptr);
        int rc = ::posix_spawn(&pid_, args[0], &actions, &attr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
        ::close(fds[1]);
        if (rc != 0) {
            ::close(fds[0]);
            throw std::runtime_error("cannot start a container process with " + command.front());
        }
        // Its first line says where it listens.
        std::string line;
        const auto until = clock_type::now() + std::chrono::seconds(20);
        for (char ch = 0; ch != '\n';) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(until - clock_type::now())
                    .count();
            pollfd p{fds[0], POLLIN, 0};
            const int ready = left <= 0 ? 0 : ::poll(&p, 1, static_cast<int>(left));
            if (ready < 0 && errno == EINTR && !control_.stopped()) continue;
            ssize_t got = 0;
            if (ready > 0) {
                do {
                    got = ::read(fds[0], &ch, 1);
                } while (got < 0 && errno == EINTR);
            }
            if (got != 1) {
                ::close(fds[0]);
                kill_now();
                throw std::runtime_error("container process " + spec.name + " did not start (" +
                                         line + ")");
            }
            if (ch != '\n') line.push_back(ch);
        }
        ::close(fds[0]);
        const std::string prefix = "listening ";
        if (!line.starts_with(prefix)) {
            kill_now();
            throw std::runtime_error("container process " + spec.name + " said: " + line);
        }
        base_url_ = line.substr(prefix.size());
        std::string url = base_url_;
        while (url.ends_with('/'))
            url.pop_back();
        channel_options o;
        o.codec = spec.codec;
        o.codec_settings.serializers.add(utc_time::date_serializer());
        if (!spec.tls_ca.empty())
            o.transport.tls = tls_options{spec.tls_ca, spec.tls_cert, spec.tls_key};
        conn_ = rpc::open_connection(url, nullptr, o);
    }
    ~process_host() override { kill_now(); }
    const std::string& base_url() const override { return base_url_; }
    std::size_t first_id() const override { return 1; }
    void spawn(std::vector<spawn_request>& requests) override {
        auto manager = conn_.remote()["agents"]["0"];
        for (auto& r : requests) {
            value made;
            try {
                array args{value(r.type)};
                made = manager.call_with("spawn", std::move(args), std::move(r.kwargs));
                ++control_.progress;
            } catch (const remote_error& e) {
                cannot_make(r, e.message());
            }
            if (made[1] != value(base_url_ + r.id)) throw std::logic_error("agent ids out of plan");
        }
    }
    std::vector<std::string> observables(const std::string& id) override {
        return service().call<std::vector<std::string>>("observables", id);
    }
    void release_starts() override { service().call("release_starts"); }
    std::vector<std::vector<value>> observe(const std::vector<std::string>& ids,
                                            const std::vector<std::string>& names) override {
        auto rows = service().call<std::vector<std::vector<value>>>("observe", ids, names);
        ++control_.progress;
        return rows;
    }
    std::pair<std::uint64_t, std::uint64_t> stats() override {
        auto s = service().call<std::vector<std::uint64_t>>("stats");
        if (s.size() != 2) throw std::runtime_error("container process: malformed runner/stats");
        return {s[0], s[1]};
    }
    void shut_down() override {
        if (pid_ < 0) return;
        if (aborted_) {
            kill_now();
            return;
        }
        try {
            conn_.remote().call("agents/0/stop",
                                deadline(control_.stopped() ? std::chrono::milliseconds(500)
                                                            : std::chrono::milliseconds(2000)));
        } catch (const std::exception&) {
            // Gone already, or not answering: reaped or killed below.
        }
        conn_.close();
        // It exits once the reply has gone; a container that hangs is killed after a while.
        const auto until = clock_type::now() + (control_.stopped() ? std::chrono::seconds(1)
                                                                   : std::chrono::seconds(10));
        int status = 0;
        while (::waitpid(pid_, &status, WNOHANG) == 0) {
            if (clock_type::now() > until) {
                kill_now();
                return;
            }
            boost::this_fiber::sleep_for(std::chrono::milliseconds(2));
        }
        pid_ = -1;
    }
    void abort() noexcept override {
        aborted_ = true;
        conn_.abort();  // fails the calls that wait on it, and never yields
    }

  private:
    rpc::proxy service() { return conn_.remote()[detail::runner_service::name]; }
    void kill_now() noexcept {
        if (pid_ < 0) return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }

    run_control& control_;
    bool aborted_ = false;
    pid_t pid_ = -1;
    std::string base_url_;
    rpc::connection conn_;
};

}  // namespace

run_summary run_scenario(const scenario& s, const agent_registry& types,
                         const run_options& options) {
    const auto started = clock_type::now();
    run_summary summary;
    summary.scenario = s.name;
    summary.seed = options.seed.value_or(s.seed);
    const double until = options.until.value_or(s.clock.until);

    // What the file asks for that this runner cannot give: say so before anything starts.
    std::vector<std::string> problems;
    for (const auto& g : s.agents) {
        if (!types.contains(g.type)) {
            auto known = types.types();
            problems.push_back(g.where.to_string() + ".type: unknown agent type \"" + g.type +
                               "\" (known: " + fmt::format("{}", fmt::join(known, ", ")) + ")");
        }
    }
    const bool any_process = std::any_of(s.containers.begin(), s.containers.end(),
                                         [](const auto& c) { return c.process; });
    if (any_process && options.container_command.empty()) {
        problems.push_back(s.file +
                           ": containers with process: true need a program to start them "
                           "(run_options::container_command; sim-runner gives itself)");
    }
    if (!problems.empty()) throw scenario_error(std::move(problems));

    std::filesystem::create_directories(options.out_dir);
    std::vector<std::unique_ptr<host>> hosts;
    std::vector<std::unique_ptr<recording>> recordings;
    std::exception_ptr failure;
    run_control control;
    control.stop = options.stop;
    coordinator* stepping = nullptr;
    // The watcher's state outlives the main fiber: the watcher may end after it.
    bool run_over = false;
    wait_queue watching;  // the watcher, woken when the run is over
    auto write_summary = [&] {
        summary.wall_seconds = std::chrono::duration<double>(clock_type::now() - started).count();
        summary.peak_rss_bytes = peak_rss();
        std::ofstream out(std::filesystem::path(options.out_dir) / "summary.json", std::ios::trunc);
        out << summary.to_json();
    };
    sim::runtime rt({.name = "sim-runner"});
    rt.run([&] {
        // Watches for a stop while the run waits on its containers: when the run has not moved
        // for the grace period after a stop (a step or a container that hangs), it fails those
        // waits at once. Nothing it does once it acts yields, so nothing it touches can go away
        // under it.
        sim::spawn([&] {
            std::optional<clock_type::time_point> quiet_since;
            std::uint64_t seen = 0;
            while (!watching.wait_until(clock_type::now() + std::chrono::milliseconds(20),
                                        [&] { return run_over; })) {
                if (!control.stopped()) continue;
                const std::uint64_t now_at =
                    control.progress + (stepping != nullptr ? stepping->stats().waves : 0);
                if (!quiet_since || now_at != seen) {
                    quiet_since = clock_type::now();
                    seen = now_at;
                    continue;
                }
                if (clock_type::now() - *quiet_since < control.grace) continue;
                log::get("scenario")
                    ->warn("{}: stopping: abandoning the waits on its containers", s.name);
                control.aborted = true;
                if (stepping != nullptr) stepping->abort();
                for (auto& h : hosts)
                    h->abort();
                break;
            }
        });
        auto stop_watching = [&] {
            run_over = true;
            watching.notify_all();
        };
        try {
            // ---- containers
            // ------------------------------------------------------------------------
            for (const auto& spec : s.containers) {
                // Threads talk in process unless processes take part: those need sockets.
                std::string address = spec.address;
                if (address == "auto")
                    address =
                        spec.process || any_process ? "tcp://127.0.0.1:0" : local_name(s, spec);
                try {
                    if (spec.process) {
                        hosts.push_back(std::make_unique<process_host>(
                            options.container_command, spec, address, s, summary.seed, control));
                    } else {
                        container_options o;
                        o.name = spec.name;
                        o.clock = virtual_time{s.clock.start, 0};
                        o.coordinated = true;
                        o.seed = summary.seed;
                        o.channel.codec = spec.codec;
                        if (!spec.tls_ca.empty()) {
                            o.channel.transport.tls =
                                tls_options{spec.tls_ca, spec.tls_cert, spec.tls_key};
                        }
                        auto h = std::make_unique<thread_host>(address, std::move(o), control);
                        h->types_ = &types;
                        hosts.push_back(std::move(h));
                    }
                } catch (const sim::connection_error& e) {
                    throw scenario_error({spec.where.to_string() + ".address: cannot listen at " +
                                          address + ": " + e.what()});
                }
            }
            auto container_index = [&](const std::string& name) {
                for (std::size_t i = 0; i < s.containers.size(); ++i) {
                    if (s.containers[i].name == name) return i;
                }
                return std::size_t{0};
            };
            auto group_index = [&](const std::string& name) {
                for (std::size_t i = 0; i < s.agents.size(); ++i) {
                    if (s.agents[i].name == name) return i;
                }
                return std::size_t{0};
            };

            // ---- the plan: which agent goes where, with which id
            // ------------------------------------
            std::vector<std::vector<planned_agent>> groups(s.agents.size());
            std::vector<std::size_t> next_id;
            for (auto& h : hosts)
                next_id.push_back(h->first_id());
            for (std::size_t g = 0; g < s.agents.size(); ++g) {
                const auto& spec = s.agents[g];
                const std::size_t parts = spec.containers.size();
                for (std::size_t k = 0; k < spec.count; ++k) {
                    // Contiguous blocks, the first ones one larger when the count does not divide.
                    const std::size_t base = spec.count / parts, extra = spec.count % parts;
                    std::size_t part = 0, end = base + (extra > 0 ? 1 : 0);
                    while (k >= end) {
                        ++part;
                        end += base + (part < extra ? 1 : 0);
                    }
                    planned_agent a;
                    a.group = g;
                    a.index = k;
                    a.container = container_index(spec.containers[part]);
                    a.id = std::to_string(next_id[a.container]++);
                    a.address = hosts[a.container]->base_url() + a.id;
                    groups[g].push_back(std::move(a));
                }
                summary.agents += spec.count;
            }

            // ---- agents: parameters drawn, peers chosen, made in plan order
            // ---------------------------
            std::vector<std::vector<spawn_request>> requests(hosts.size());
            for (std::size_t g = 0; g < s.agents.size(); ++g) {
                const scenario_agents& spec = s.agents[g];
                std::vector<sim::rng> draws;
                for (const auto& [name, p] : spec.params)
                    draws.emplace_back(summary.seed, "params/" + spec.name + "/" + name);
                sim::rng peers(summary.seed, "knows/" + spec.name);
                const auto& members = groups[g];
                for (std::size_t k = 0; k < members.size(); ++k) {
                    map kwargs;
                    for (std::size_t p = 0; p < spec.params.size(); ++p) {
                        kwargs.insert_or_assign(value(spec.params[p].first),
                                                draw(spec.params[p].second, draws[p]));
                    }
                    if (spec.knows.k != scenario_topology::kind::none) {
                        array knows;
                        const std::size_t n = members.size();
                        switch (spec.knows.k) {
                            case scenario_topology::kind::all:
                                for (std::size_t j = 0; j < n; ++j)
                                    if (j != k) knows.push_back(value(members[j].address));
                                break;
                            case scenario_topology::kind::ring:
                                if (n > 1) knows.push_back(value(members[(k + n - 1) % n].address));
                                if (n > 2) knows.push_back(value(members[(k + 1) % n].address));
                                break;
                            case scenario_topology::kind::random: {
                                std::set<std::size_t> chosen;
                                while (chosen.size() <
                                       static_cast<std::size_t>(spec.knows.degree)) {
                                    std::size_t j = peers.below(n);
                                    if (j != k && chosen.insert(j).second)
                                        knows.push_back(value(members[j].address));
                                }
                                break;
                            }
                            case scenario_topology::kind::star:
                                for (const auto& centre : groups[group_index(spec.knows.group)])
                                    if (centre.address != members[k].address)
                                        knows.push_back(value(centre.address));
                                break;
                            case scenario_topology::kind::explicit_list:
                                for (const auto& ref : spec.knows.agents) {
                                    auto slash = ref.rfind('/');
                                    const auto& target = groups[group_index(ref.substr(0, slash))];
                                    knows.push_back(
                                        value(target[std::stoul(ref.substr(slash + 1))].address));
                                }
                                break;
                            case scenario_topology::kind::none:
                                break;
                        }
                        kwargs.insert_or_assign(value("knows"), value(std::move(knows)));
                    }
                    requests[members[k].container].push_back(
                        {spec.type, std::move(kwargs), members[k].id, &spec});
                }
            }
            // Each container makes its agents in id order, as planned.
            for (std::size_t h = 0; h < hosts.size(); ++h) {
                std::stable_sort(requests[h].begin(), requests[h].end(),
                                 [](const auto& a, const auto& b) {
                                     return std::stoul(a.id) < std::stoul(b.id);
                                 });
                hosts[h]->spawn(requests[h]);
            }
            // Every observable a recording names must exist.
            for (const auto& r : s.records) {
                const auto& first = groups[group_index(r.group)].front();
                auto names = hosts[first.container]->observables(first.id);
                for (const auto& o : r.observe) {
                    if (std::find(names.begin(), names.end(), o) == names.end()) {
                        throw scenario_error(
                            {r.where.to_string() + ".observe: \"" + o +
                             "\" is not an observable of " + r.group +
                             " (it has: " + fmt::format("{}", fmt::join(names, ", ")) + ")"});
                    }
                }
            }

            // ---- recordings
            // ----------------------------------------------------------------------------
            for (const auto& r : s.records)
                recordings.push_back(std::make_unique<recording>(r, options.out_dir));
            auto sample = [&](double t) {
                for (auto& rec : recordings) {
                    const std::size_t g = group_index(rec->spec().group);
                    std::vector<std::vector<value>> rows(groups[g].size());
                    for (std::size_t h = 0; h < hosts.size(); ++h) {
                        std::vector<std::string> ids;
                        std::vector<std::size_t> at;
                        for (std::size_t k = 0; k < groups[g].size(); ++k) {
                            if (groups[g][k].container != h) continue;
                            ids.push_back(groups[g][k].id);
                            at.push_back(k);
                        }
                        if (ids.empty()) continue;
                        auto got = hosts[h]->observe(ids, rec->spec().observe);
                        for (std::size_t i = 0; i < at.size() && i < got.size(); ++i)
                            rows[at[i]] = std::move(got[i]);
                    }
                    rec->write(t, rec->spec().group, rows);
                }
            };
            auto totals = [&] {
                std::uint64_t calls = 0, wakes = 0;
                for (auto& h : hosts) {
                    auto [n, w] = h->stats();
                    calls += n;
                    wakes += w;
                }
                return std::pair(calls, wakes);
            };

            // ---- the clock
            // -----------------------------------------------------------------------------
            for (auto& h : hosts)
                h->release_starts();
            std::vector<std::string> urls;
            for (auto& h : hosts)
                urls.push_back(h->base_url());
            // The control connections speak the containers' codec (one per scenario) and TLS.
            coordinator_options co;
            const scenario_container& first = s.containers.front();
            co.channel.codec = first.codec;
            if (!first.tls_ca.empty())
                co.channel.transport.tls = tls_options{first.tls_ca, first.tls_cert, first.tls_key};
            co.step_timeout = control.timeout;
            coordinator coord(urls, co);
            stepping = &coord;
            struct forget_guard {
                coordinator*& c;
                ~forget_guard() { c = nullptr; }
            } forget{stepping};
            auto stopped = [&] { return options.stop != nullptr && options.stop->load(); };
            // Real time: the step to t starts at wall time t / factor after the first; a step that
            // cannot start on time starts late, and the lateness is what the summary reports.
            const auto paced_from = clock_type::now();
            double lag_sum = 0;
            std::uint64_t paced = 0;
            summary.realtime = s.clock.realtime;
            // False when the run is to stop instead.
            auto pace = [&](double t) {
                if (!s.clock.realtime) return !stopped();
                const auto due =
                    paced_from + std::chrono::duration_cast<clock_type::duration>(
                                     std::chrono::duration<double>(t / s.clock.factor));
                // Waits in slices, so that a stop (Ctrl-C) is not held up by a long wait.
                while (clock_type::now() < due && !stopped()) {
                    boost::this_fiber::sleep_until(
                        std::min(due, clock_type::now() + std::chrono::milliseconds(50)));
                }
                if (stopped()) return false;
                // Late by what the step before overran, or by how long waking took.
                const double lag =
                    std::max(0.0, std::chrono::duration<double>(clock_type::now() - due).count());
                summary.max_lag = std::max(summary.max_lag, lag);
                lag_sum += lag;
                ++paced;
                summary.mean_lag = lag_sum / static_cast<double>(paced);
                if (s.clock.strict && lag > s.clock.max_lag) {
                    throw std::runtime_error(fmt::format(
                        "real time: the step to t={} started {:.6f} s late (clock.max_lag is {} s, "
                        "clock.strict is true)",
                        number_text(t), lag, s.clock.max_lag));
                }
                return true;
            };
            auto after_step = [&](double t) {
                ++summary.steps;
                ++control.progress;
                summary.sim_time = t;
                sample(t);
                // Step by step: whatever ends the run later, each file ends with a whole step.
                for (auto& rec : recordings)
                    rec->flush();
                if (options.progress) {
                    run_progress p;
                    p.time = t;
                    p.until = until;
                    p.steps = summary.steps;
                    p.messages = totals().first;
                    p.wall_seconds =
                        std::chrono::duration<double>(clock_type::now() - started).count();
                    options.progress(p);
                }
            };
            if (s.clock.step) {
                const double dt = *s.clock.step;
                for (std::uint64_t k = 0;; ++k) {
                    const double t = static_cast<double>(k) * dt;  // no drift from repeated sums
                    if (t > until || stopped()) break;
                    if (!pace(t)) break;
                    coord.step(t);
                    after_step(t);
                }
            } else {
                std::optional<double> next;
                if (pace(0)) {
                    next = coord.step(0);
                    after_step(0);
                }
                while (next && *next <= until && !stopped()) {
                    const double t = *next;
                    if (!pace(t)) break;
                    next = coord.step(t);
                    after_step(t);
                }
            }
            summary.interrupted = stopped();

            for (auto& rec : recordings)
                rec->flush();
            std::tie(summary.messages, summary.wakeups) = totals();
        } catch (...) {
            if (control.aborted) {
                // A wait that the stop abandoned: the run was interrupted, not failed.
                summary.interrupted = true;
                try {
                    throw;
                } catch (const std::exception& e) {
                    log::get("scenario")->warn("{}: stopped while waiting: {}", s.name, e.what());
                } catch (...) {
                    log::get("scenario")->warn("{}: stopped while waiting", s.name);
                }
            } else {
                failure = std::current_exception();
            }
        }
        stop_watching();
        for (auto& rec : recordings)
            rec->flush();
        // Written before the containers go, so that it is there even if their shutdown is cut
        // short; written again with the final figures below.
        write_summary();
        for (auto& h : hosts)
            h->shut_down();
    });
    hosts.clear();
    write_summary();
    if (failure) std::rethrow_exception(failure);
    return summary;
}

}  // namespace sim

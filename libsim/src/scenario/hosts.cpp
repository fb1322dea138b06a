#include "scenario/hosts.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include <fmt/format.h>
#include <boost/fiber/future.hpp>

#include <sim/agent/agent.hpp>
#include <sim/clock/utc_time.hpp>
#include <sim/core/error.hpp>
#include <sim/rpc/connection.hpp>

#include "scenario/runner_service.hpp"

extern char** environ;

namespace sim::detail {

namespace {

[[noreturn]] void cannot_make(const spawn_request& r, const std::string& why) {
    throw scenario_error(
        {r.group->where.to_string() + ": cannot make an agent of type \"" + r.type + "\": " + why});
}

class thread_host final : public host {
  public:
    thread_host(const std::string& address, container_options o, run_control& control,
                const agent_registry& types)
        : types_(&types), control_(control), thread_(address, std::move(o)) {
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

    const agent_registry* types_;
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

std::unique_ptr<host> make_thread_host(const std::string& address, container_options options,
                                       run_control& control, const agent_registry& types) {
    return std::make_unique<thread_host>(address, std::move(options), control, types);
}

std::unique_ptr<host> make_process_host(const std::vector<std::string>& command,
                                        const scenario_container& spec, const std::string& address,
                                        const scenario& s, std::uint64_t seed,
                                        run_control& control) {
    return std::make_unique<process_host>(command, spec, address, s, seed, control);
}

}  // namespace sim::detail

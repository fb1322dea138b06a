#include <sim/mosaik/remote_simulator.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>

#include <sim/core/error.hpp>
#include <sim/core/log.hpp>
#include <sim/mosaik/protocol.hpp>
#include <sim/rpc/request.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/runtime/wait_queue.hpp>
#include <sim/transport/address.hpp>
#include <sim/transport/stream.hpp>

extern char** environ;

namespace sim::mosaik {

namespace {

channel_options json_channel(const launch_options& o) {
    channel_options c;
    c.codec = "json";
    c.default_timeout = o.call_timeout;
    return c;
}

std::string substitute(std::string command, const std::string& from, const std::string& to) {
    for (std::size_t at = command.find(from); at != std::string::npos;
         at = command.find(from, at + to.size()))
        command.replace(at, from.size(), to);
    return command;
}

pid_t spawn_shell(const std::string& command, const launch_options& o) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (!o.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, o.cwd.c_str());
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // A group of its own: the shell and whatever it starts end together.
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string entry(*e);
        if (!o.env.contains(entry.substr(0, entry.find('=')))) env_strings.push_back(entry);
    }
    for (const auto& [k, v] : o.env)
        env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env_strings)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string shell = "/bin/sh", dash_c = "-c", cmd = command;
    char* argv[] = {shell.data(), dash_c.data(), cmd.data(), nullptr};
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw connection_error("cannot start \"" + command + "\": " + std::strerror(rc));
    return pid;
}

// Waits, suspending the calling fiber, until process `pid` exits or `timeout` passes; reaps it
// if it exited. True if it did.
bool wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return true;
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) return false;
    struct shared {
        shared(boost::asio::io_context& io, int fd) : exited(io, fd), timer(io) {}
        boost::asio::posix::stream_descriptor exited;
        boost::asio::steady_timer timer;
        wait_queue woken;
        bool done = false;
        bool gone = false;
    };
    auto st = std::make_shared<shared>(runtime::current()->io(), pidfd);
    st->exited.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                          [st](const boost::system::error_code& ec) {
                              if (!ec) st->gone = true;
                              st->done = true;
                              st->woken.notify_all();
                          });
    st->timer.expires_after(timeout);
    st->timer.async_wait([st](const boost::system::error_code& ec) {
        if (!ec) {
            st->done = true;
            st->woken.notify_all();
        }
    });
    st->woken.wait([&] { return st->done; });
    boost::system::error_code ignored;
    st->timer.cancel();
    st->exited.cancel(ignored);
    return st->gone && ::waitpid(pid, &status, 0) == pid;
}

}  // namespace

remote_simulator::remote_simulator(std::string name, channel ch, launch_options options, pid_t pid)
    : name_(std::move(name)),
      ch_(std::make_shared<channel>(std::move(ch))),
      options_(std::move(options)),
      pid_(pid) {
    std::weak_ptr<bool> alive = alive_;
    runtime::current()->spawn([this, alive, ch = ch_] {
        for (;;) {
            std::optional<request> req;
            try {
                req.emplace(ch->recv());
            } catch (const connection_closed&) {
                return;
            }
            if (alive.expired()) return;
            answer(*req);
        }
    });
}

void remote_simulator::answer(request& req) {
    const auto parts = rpc::as_request(req.content());
    if (!parts) {
        req.fail_with(value(
            array{value("TypeError"), value("expected [name, [args], {kwargs}]"), value("")}));
        return;
    }
    try {
        if (!handler_) throw fault("RuntimeError", parts->path + ": the master serves no requests");
        req.reply(handler_(parts->path, parts->args));
    } catch (const connection_closed&) {
    } catch (const std::exception& e) {
        req.fail_with(failure_reply(e));
    }
}

std::unique_ptr<remote_simulator> remote_simulator::launch(const std::string& name,
                                                           const std::string& command,
                                                           const launch_options& o) {
    auto accepting = listen_on(address::tcp("127.0.0.1", 0), {});
    const std::string addr = "127.0.0.1:" + std::to_string(accepting->local_address().port);
    const std::string cmd =
        substitute(substitute(command, "%(addr)s", addr), "%(python)s", "python3");
    const pid_t pid = spawn_shell(cmd, o);
    // Accepting ends when the simulator connects, exits, or takes too long.
    struct shared {
        std::unique_ptr<sim::listener> l;
        bool exited = false;
    };
    auto st = std::make_shared<shared>();
    st->l = std::move(accepting);
    runtime::current()->spawn([st, pid, timeout = o.start_timeout] {
        st->exited = wait_exit(pid, timeout);
        st->l->close();
    });
    boost::system::error_code ec;
    auto s = st->l->accept(ec);
    st->l->close();
    if (!s) {
        ::kill(-pid, SIGKILL);
        (void)wait_exit(pid, std::chrono::seconds(2));
        throw connection_error(
            fmt::format("simulator {}: \"{}\" {} without connecting to {}", name, cmd,
                        st->exited ? "exited" : "did not connect within its start timeout,", addr));
    }
    return std::unique_ptr<remote_simulator>(
        new remote_simulator(name, channel(std::move(s), json_channel(o)), o, pid));
}

std::unique_ptr<remote_simulator> remote_simulator::connect(const std::string& name,
                                                            const std::string& host_port,
                                                            const launch_options& o) {
    channel_options c = json_channel(o);
    c.transport.handshake_timeout = o.start_timeout;
    try {
        return std::unique_ptr<remote_simulator>(
            new remote_simulator(name, open_connection("tcp://" + host_port, c), o, -1));
    } catch (const connection_error& e) {
        throw connection_error("simulator " + name + ": " + e.what());
    }
}

remote_simulator::~remote_simulator() {
    alive_.reset();
    ch_->abort();
    end_process();
}

void remote_simulator::end_process() noexcept {
    if (pid_ <= 0) return;
    try {
        if (!wait_exit(pid_, std::chrono::milliseconds(0))) {
            ::kill(-pid_, SIGTERM);
            if (!wait_exit(pid_, std::chrono::seconds(1))) {
                ::kill(-pid_, SIGKILL);
                (void)wait_exit(pid_, std::chrono::seconds(5));
            }
        }
    } catch (const std::exception&) {
        ::kill(-pid_, SIGKILL);
    }
    pid_ = -1;
}

value remote_simulator::call(const std::string& method, array args, map kwargs) {
    try {
        return mosaik::send(*ch_, rpc::make_request(method, std::move(args), std::move(kwargs)),
                            deadline(options_.call_timeout));
    } catch (const remote_error& e) {
        throw std::runtime_error(fmt::format("simulator {}: {} failed: {}", name_, method,
                                             e.type() + ": " + e.message()));
    } catch (const error& e) {
        throw std::runtime_error(fmt::format("simulator {}: {}: {}", name_, method, e.what()));
    }
}

value remote_simulator::init(const std::string& sid, double time_resolution, const map& params) {
    map kwargs = params;
    kwargs.insert_or_assign(value("time_resolution"), value(time_resolution));
    return call("init", {value(sid)}, std::move(kwargs));
}

value remote_simulator::create(std::int64_t num, const std::string& model, const map& params) {
    return call("create", {value(num), value(model)}, params);
}

void remote_simulator::setup_done() {
    (void)call("setup_done", {});
}

value remote_simulator::step(std::int64_t time, const value& inputs, std::int64_t max_advance) {
    return call("step", {value(time), inputs, value(max_advance)});
}

value remote_simulator::get_data(const value& outputs) {
    return call("get_data", {outputs});
}

void remote_simulator::stop() {
    // mosaik sends stop and waits for the connection to close, not for an answer.
    try {
        (void)ch_->exchange(rpc::make_request("stop"), deadline(std::chrono::seconds(2)));
    } catch (const error&) {
    }
    if (pid_ > 0 && wait_exit(pid_, std::chrono::seconds(2))) pid_ = -1;
}

}  // namespace sim::mosaik

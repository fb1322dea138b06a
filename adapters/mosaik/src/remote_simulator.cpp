#include <sim/mosaik/remote_simulator.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

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

// Runs `command` through /bin/sh in a process group of its own. The child dies with this
// thread (PR_SET_PDEATHSIG): a master that is killed, or ends through a path that skips its
// destructors (a second Ctrl-C), leaves no simulator behind. (/bin/sh executes a simple
// command in its own place, so the lifeline reaches the simulator itself.)
pid_t spawn_shell(const std::string& command, const launch_options& o) {
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
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0)
        throw connection_error("cannot start \"" + command + "\": " + std::strerror(errno));
    if (pid == 0) {
        // Only system calls until exec: the parent has other threads.
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);  // the parent ended before the lifeline was set
        if (!o.cwd.empty() && ::chdir(o.cwd.c_str()) != 0) ::_exit(127);
        ::execve("/bin/sh", argv, envp.data());
        ::_exit(127);
    }
    return pid;
}

// A process's end as an event a fiber can wait for, with a bound, and that the one who armed it
// can call off. Shared with the handlers, which may run after the waiter has gone.
class exit_watch : public std::enable_shared_from_this<exit_watch> {
  public:
    // Null when the process is gone already (no pidfd can be had).
    static std::shared_ptr<exit_watch> of(pid_t pid) {
        const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
        if (pidfd < 0) return nullptr;
        return std::shared_ptr<exit_watch>(new exit_watch(pidfd));
    }

    // True when the process has exited (not reaped), false at the timeout or when called off.
    bool wait(std::chrono::milliseconds timeout) {
        auto self = shared_from_this();
        exited_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                           [self](const boost::system::error_code& ec) {
                               if (!ec) self->gone_ = true;
                               self->finish();
                           });
        timer_.expires_after(timeout);
        timer_.async_wait([self](const boost::system::error_code& ec) {
            if (!ec) self->finish();
        });
        woken_.wait([this] { return done_; });
        boost::system::error_code ignored;
        timer_.cancel();
        exited_.cancel(ignored);
        return gone_;
    }
    void call_off() { finish(); }

  private:
    explicit exit_watch(int pidfd)
        : exited_(runtime::current()->io(), pidfd), timer_(runtime::current()->io()) {}
    void finish() {
        done_ = true;
        woken_.notify_all();
    }

    boost::asio::posix::stream_descriptor exited_;
    boost::asio::steady_timer timer_;
    wait_queue woken_;
    bool done_ = false;
    bool gone_ = false;
};

// Waits, suspending the calling fiber, until child `pid` exits or `timeout` passes, and reaps
// it if it exited. True if it did (or had already been reaped).
bool wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    auto watch = exit_watch::of(pid);
    if (watch && !watch->wait(timeout)) return false;
    return ::waitpid(pid, &status, 0) == pid || errno == ECHILD;
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
    // Accepting ends when the simulator connects, exits, or takes too long: a watcher closes
    // the listener at its exit or the timeout, and is called off once it has connected. It
    // does not reap: whoever ends the process does.
    struct shared {
        std::unique_ptr<sim::listener> l;
        std::shared_ptr<exit_watch> watch;
        bool exited = false;
    };
    auto st = std::make_shared<shared>();
    st->l = std::move(accepting);
    st->watch = exit_watch::of(pid);
    st->exited = st->watch == nullptr;
    if (st->watch) {
        runtime::current()->spawn([st, timeout = o.start_timeout] {
            st->exited = st->watch->wait(timeout);
            st->l->close();
        });
    } else {
        st->l->close();
    }
    boost::system::error_code ec;
    auto s = st->l->accept(ec);
    if (st->watch) st->watch->call_off();
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

void remote_simulator::cancel() noexcept {
    ch_->abort();
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
    value meta = call("init", {value(sid)}, std::move(kwargs));
    const value* ours = meta.is_map() ? meta.as_map().find(value("libsim")) : nullptr;
    const value* in_order =
        ours != nullptr && ours->is_map() ? ours->as_map().find(value("in_order")) : nullptr;
    in_order_ = in_order != nullptr && in_order->is_bool() && in_order->as_bool();
    return meta;
}

std::pair<value, value> remote_simulator::step_and_get_data(std::int64_t time, const value& inputs,
                                                            std::int64_t max_advance,
                                                            const value& outputs) {
    if (!in_order_) return coupled_simulator::step_and_get_data(time, inputs, max_advance, outputs);
    // The get_data fiber runs once this one waits for step's answer: by then step's frame is
    // queued, so get_data's goes after it (the channel writes frames in the order queued).
    struct later {
        value data;
        std::exception_ptr error;
        bool done = false;
        wait_queue finished;
    };
    auto g = std::make_shared<later>();
    runtime::current()->spawn([this, g, &outputs] {
        try {
            g->data = get_data(outputs);
        } catch (...) {
            g->error = std::current_exception();
        }
        g->done = true;
        g->finished.notify_all();
    });
    std::exception_ptr step_error;
    value next;
    try {
        next = step(time, inputs, max_advance);
    } catch (...) {
        step_error = std::current_exception();
    }
    g->finished.wait([&] { return g->done; });
    if (step_error) std::rethrow_exception(step_error);
    if (g->error) std::rethrow_exception(g->error);
    return {std::move(next), std::move(g->data)};
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
    if (pid_ > 0 && wait_exit(pid_, std::chrono::seconds(2))) pid_ = -1;  // reaped
}

}  // namespace sim::mosaik

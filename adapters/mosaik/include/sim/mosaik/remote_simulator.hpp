#pragma once
/// A simulator of any language in another process or on another host, coupled over mosaik's
/// protocol (mosaik-api.md): started by the master and connecting back (mosaik's `cmd:`), or
/// already listening (`connect:`). Its calls suspend only the calling fiber, so the master runs
/// in a fiber of a `sim::runtime`; requests the simulator makes during a step (get_progress,
/// get_related_entities, ...) are answered by the handler the master sets.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <sim/channel/channel.hpp>
#include <sim/mosaik/world.hpp>

namespace sim::mosaik {

/// How to start a simulator process.
struct launch_options {
    std::string cwd;                         ///< empty: the master's
    std::map<std::string, std::string> env;  ///< added to the master's environment
    std::chrono::milliseconds start_timeout{std::chrono::seconds(10)};
    std::chrono::milliseconds call_timeout{std::chrono::seconds(60)};
};

class remote_simulator : public coupled_simulator {
  public:
    /// Runs `command` through /bin/sh, `%(addr)s` in it replaced by the `host:port` it must
    /// connect back to, in a process group of its own that dies with the calling thread (a
    /// killed master leaves no simulator behind), and waits for its connection (at most
    /// `start_timeout`). `name` is for messages. Throws `sim::connection_error` naming the
    /// command when it does not connect in time or exits first.
    static std::unique_ptr<remote_simulator> launch(const std::string& name,
                                                    const std::string& command,
                                                    const launch_options& options = {});
    /// Connects to a simulator that listens on `host:port`.
    static std::unique_ptr<remote_simulator> connect(const std::string& name,
                                                     const std::string& host_port,
                                                     const launch_options& options = {});

    /// Closes the connection and ends a process it started (SIGTERM to its group, SIGKILL if
    /// it has not ended a second later) and reaps it: no simulator outlives the master.
    ~remote_simulator() override;

    /// The simulator gets mosaik's failure reply when the handler throws.
    void on_request(request_handler handler) override { handler_ = std::move(handler); }

    value init(const std::string& sid, double time_resolution, const map& params) override;
    value create(std::int64_t num, const std::string& model, const map& params) override;
    void setup_done() override;
    value step(std::int64_t time, const value& inputs, std::int64_t max_advance) override;
    value get_data(const value& outputs) override;
    /// To a simulator whose init said it answers in order (libsim's simulators do), get_data
    /// goes out right behind step, without waiting for step's answer: one wake-up of each
    /// process instead of two.
    std::pair<value, value> step_and_get_data(std::int64_t time, const value& inputs,
                                              std::int64_t max_advance,
                                              const value& outputs) override;
    /// mosaik's `stop`: sent without waiting for an answer; then waits (bounded) for the
    /// process to exit.
    void stop() override;

    value call_extra(const std::string& name, array args, map kwargs) override {
        return call(name, std::move(args), std::move(kwargs));
    }

    bool suspends() const noexcept override { return true; }
    /// Aborts the connection: a call in flight fails with `connection_closed`.
    void cancel() noexcept override;

    /// The process id of a simulator it started, or -1.
    pid_t pid() const noexcept { return pid_; }

  private:
    remote_simulator(std::string name, channel ch, launch_options options, pid_t pid);
    value call(const std::string& method, array args, map kwargs = {});
    void answer(request& req);
    void end_process() noexcept;

    std::string name_;
    std::shared_ptr<channel> ch_;  // shared with the fiber that serves its requests
    launch_options options_;
    pid_t pid_ = -1;
    bool in_order_ = false;
    request_handler handler_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sim::mosaik

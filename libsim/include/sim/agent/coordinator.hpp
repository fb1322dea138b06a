#pragma once
/// One virtual time for several containers (docs/step-protocol.md).

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <sim/agent/container.hpp>
#include <sim/core/deadline.hpp>
#include <sim/rpc/connection.hpp>

namespace sim {

struct coordinator_options {
    /// For the control connections to the containers.
    channel_options channel;
    /// A step that is not over by then fails with `sim::timeout_error` naming the containers
    /// that are not quiet and the messages still missing.
    std::chrono::milliseconds step_timeout{std::chrono::seconds(60)};
};

/// What one step took.
struct coordinator_stats {
    std::uint64_t steps = 0;
    std::uint64_t waves = 0;   ///< rounds of `settle` over all containers
    std::uint64_t rounds = 0;  ///< deliveries of held messages
};

/// Steps containers made with `coordinated = true` (threads of this process or other
/// processes) to one global virtual time: each step moves every container to `t`, then waits
/// for global quiescence (every container quiet, and as many messages received between them as
/// sent, unchanged over two consecutive waves: Mattern's four counters) and, while messages are
/// held, delivers them in canonical order and waits again. The next time is the earliest next
/// event of all containers. Runs in a fiber; talks to the containers over RPC (`clock/...`).
class coordinator {
  public:
    /// `containers`: their base URLs (`tcp://127.0.0.1:5555/` or without the slash).
    explicit coordinator(std::vector<std::string> containers, coordinator_options options = {});

    /// Moves every container to `t` and runs them until globally quiet; returns the next event.
    std::optional<double> step(double t);
    /// Closes the control connections: a step in progress, and every later one, fails at once
    /// with `sim::connection_closed`. For a run that must end now (a signal) while a step waits.
    void abort() noexcept;
    const coordinator_stats& stats() const noexcept { return stats_; }

  private:
    struct report {
        container_counts counts;
        std::optional<double> next;
    };
    std::vector<report> wave();
    std::optional<double> run_step();
    report ask(std::size_t i, const char* method);
    static report parse(const value& v);

    coordinator_options options_;
    std::vector<std::string> urls_;
    std::vector<rpc::connection> links_;
    coordinator_stats stats_;
    deadline until_;
    double time_ = 0;
    std::vector<std::optional<report>> last_;  // each container's last answer in this step
};

}  // namespace sim

#pragma once
// Where the containers of a scenario run: a thread of the runner's process, or a process of
// their own (the runner's program started as a container). The runner drives both through
// `host`, with every wait bounded by the run's timeout and abandoned when a stop hangs.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <sim/agent/container.hpp>
#include <sim/agent/registry.hpp>
#include <sim/codec/value.hpp>
#include <sim/scenario/scenario.hpp>

#include "scenario/run_control.hpp"

namespace sim::detail {

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

/// A container on a thread of this process, made with `options`; agents from `types`.
std::unique_ptr<host> make_thread_host(const std::string& address, container_options options,
                                       run_control& control, const agent_registry& types);

/// A container in a process of its own: `command` started with container_main's options for
/// `spec` (which is made to listen at `address`), driven over RPC.
std::unique_ptr<host> make_process_host(const std::vector<std::string>& command,
                                        const scenario_container& spec, const std::string& address,
                                        const scenario& s, std::uint64_t seed,
                                        run_control& control);

}  // namespace sim::detail

#pragma once
/// The manager agent of a container started for others to fill (aiomas' subproc.Manager).

#include <sim/agent/agent.hpp>
#include <sim/agent/registry.hpp>

namespace sim {

/// Exposes, as aiomas' `Manager` does (normally as agent "0"):
/// - `spawn(type, *args, **kwargs)` makes an agent of a registered type and returns
///   `[agent reference, address]`;
/// - `set_time(t)` sets the virtual clock (aiomas' `ExternalClock.set_time`: strictly later,
///   and it returns before the woken agents run);
/// - `stop()` ends the container's `run()` and asks its runtime to stop, which ends a process
///   waiting in `sim::wait_for_stop` too; connections close once the reply has gone.
class manager : public agent {
  public:
    manager(sim::container& c, const agent_registry& types);
    std::string type_name() const override { return "Manager"; }

  private:
    const agent_registry* types_;
};

}  // namespace sim

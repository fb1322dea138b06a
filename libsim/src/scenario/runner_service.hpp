#pragma once
// What a scenario runner asks of a container while it runs a scenario: agents' observables,
// their values at a step, and counts for the summary. A runner asks a container on a thread of
// its own process directly; one in another process through `runner_service` over RPC.

#include <cstdint>
#include <string>
#include <vector>

#include <sim/agent/container.hpp>
#include <sim/codec/value.hpp>
#include <sim/rpc/router.hpp>

namespace sim::detail {

/// The names an agent observes (`agent::observables`); empty for an id that names no agent.
std::vector<std::string> observables_of(const container& c, const std::string& id);

/// For each id, the values of `names` (nil where the agent or the name is missing).
std::vector<std::vector<value>> observe(container& c, const std::vector<std::string>& ids,
                                        const std::vector<std::string>& names);

struct container_stats {
    std::uint64_t calls = 0;    ///< calls its agents served
    std::uint64_t wakeups = 0;  ///< times its virtual clock woke a fiber
};
container_stats stats_of(container& c);

/// Serves the functions above at `runner/...` of a container (a container process that a
/// runner drives), plus `release_starts`. Its functions never wait, so the service may go
/// before its container: a request that finds it gone answers "not found".
class runner_service {
  public:
    static constexpr const char* name = "runner";
    explicit runner_service(container& c);

  private:
    rpc::router router_;
};

}  // namespace sim::detail

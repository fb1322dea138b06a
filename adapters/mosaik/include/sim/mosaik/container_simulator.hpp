#pragma once
/// A libsim container as a mosaik simulator (docs/mosaik.md): instead of a Python aiomas
/// container driven by mosaik, agents in a C++ container that mosaik steps.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <sim/agent/container.hpp>
#include <sim/agent/registry.hpp>
#include <sim/mosaik/simulator.hpp>

namespace sim::mosaik {

/// Each entity is an agent of a registered type (its eid is the agent's id; `extra_info` holds
/// `{"address": ...}` for handing to other agents as a parameter). mosaik's `step(t)` delivers
/// the inputs (an input attribute `a` is a call of the agent's exposed function `a` with
/// `{source_full_id: value}`, before the step), then steps the container to
/// `t * time_resolution` seconds (the step/advance protocol: everything due runs until the
/// container is quiet) and answers the container's next event in mosaik time. Outputs are the
/// agents' observables. The simulator is hybrid: declare in each model's `trigger` the inputs
/// that must step it.
class container_simulator : public simulator {
  public:
    /// `models`: the agent types mosaik may create (by their registry names), with their
    /// params (keyword arguments of the type) and attrs (inputs and observables). `address`:
    /// where the container listens; empty: `local://mosaik-<sid>`.
    container_simulator(const agent_registry& types, std::map<std::string, model> models,
                        container_options options = {}, std::string address = {});
    ~container_simulator() override;

    mosaik::meta meta() const override;
    /// Makes the container, in virtual time; `start_date` (sim_params) sets the date at time 0.
    void init(const std::string& sid, double time_resolution, const map& params) override;
    std::vector<entity> create(int num, const std::string& model, const map& params) override;
    std::optional<std::int64_t> step(std::int64_t time, const mosaik::inputs& in,
                                     std::int64_t max_advance) override;
    value get_data(const mosaik::outputs& wanted) override;
    void finalize() override;

    /// The container (after `init`).
    sim::container& container();
    /// Calls its agents served, until now or until `finalize`.
    std::uint64_t calls_served() const noexcept;

    /// Agents made before mosaik's `create` (a scenario's `agents:` section, placed and seeded
    /// as in a run of its own): `create(n, model)` hands out the next n of `ids`, in order,
    /// instead of making agents; it takes no params, and fails once they are used up. Make
    /// them after `init` with `container().hold_starts()` first: held starts go on at the
    /// first step, once every container of the world has all its agents.
    void adopt(const std::string& model, std::vector<std::string> ids);

  private:
    const agent_registry* types_;
    std::map<std::string, model> models_;
    container_options options_;
    std::string address_;
    double resolution_ = 1;
    std::unique_ptr<sim::container> container_;
    std::map<std::string, rpc::proxy> proxies_;  // by agent id, for inputs
    struct adopted {
        std::vector<std::string> ids;
        std::size_t handed_out = 0;
    };
    std::map<std::string, adopted> adopted_;  // by model
    bool stepped_ = false;
    std::uint64_t calls_served_ = 0;  // once finalized
};

}  // namespace sim::mosaik

// Agent types for sim-runner scenarios: a room whose temperature drifts towards the outside,
// and a thermostat that heats it. Rename, replace, add your own.

#include <algorithm>
#include <string>
#include <vector>

#include <sim/agent/agent.hpp>
#include <sim/agent/container.hpp>
#include <sim/scenario/plugin.hpp>

namespace {

// Loses heat towards `outside` each step; heat comes from whoever calls `heat(kw)`.
class room : public sim::agent {
  public:
    room(sim::container& c, double temperature, double outside, double step)
        : agent(c), temperature_(temperature), outside_(outside), step_(step) {
        expose("temperature", [this] { return temperature_; });
        expose(
            "heat", [this](double kw) { heating_ = kw; }, sim::arg("kw"));
        observable("temperature", [this] { return temperature_; });
        observable("heating_kw", [this] { return heating_; });
        start([this] {
            for (;;) {
                clock().sleep_for(step_);
                const double hours = step_ / 3600;
                temperature_ += hours * (0.5 * (outside_ - temperature_) + 2.0 * heating_);
            }
        });
    }

  private:
    double temperature_, outside_, step_, heating_ = 0;
};

// Reads the rooms it knows each step and heats those below `target`.
class thermostat : public sim::agent {
  public:
    thermostat(sim::container& c, double target, double step, std::vector<std::string> knows)
        : agent(c), target_(target), step_(step), knows_(std::move(knows)) {
        observable("heating", [this] { return heating_; });
        start([this] {
            std::vector<sim::proxy> rooms;
            for (const auto& url : knows_)
                rooms.push_back(connect(url));
            for (;;) {
                clock().sleep_for(step_);
                heating_ = 0;
                for (auto& r : rooms) {
                    const bool cold = r.call<double>("temperature") < target_;
                    r.call("heat", cold ? 6.0 : 0.0);
                    heating_ += cold ? 1 : 0;
                }
            }
        });
    }

  private:
    double target_, step_;
    std::vector<std::string> knows_;
    int heating_ = 0;
};

}  // namespace

SIM_AGENT_PLUGIN(types) {
    using sim::arg;
    types.add<room, double, double, double>("room", arg("temperature") = 18.0, arg("outside") = 5.0,
                                            arg("step") = 600.0);
    types.add<thermostat, double, double, std::vector<std::string>>(
        "thermostat", arg("target") = 21.0, arg("step") = 600.0,
        arg("knows") = std::vector<std::string>{});
}

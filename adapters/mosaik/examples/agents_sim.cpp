// A container of agents coupled to mosaik through sim::mosaik::container_simulator: households
// that adapt their load to the price mosaik gives them and report it to an aggregator agent,
// every 15 minutes. From a mosaik scenario:
//
//     SIM_CONFIG = {"Agents": {"cmd": "/path/to/agents-sim %(addr)s"}}
//     agents = world.start("Agents", start_date="2026-06-01T00:00:00+00:00")
//     agg = agents.Aggregator()
//     houses = agents.Household.create(10, base_kw=1.0, aggregator=agg.extra_info["address"])
//     world.connect(price_source, houses[0], ("price", "price"))

#include <string>

#include <sim/agent/agent.hpp>
#include <sim/agent/container.hpp>
#include <sim/mosaik/container_simulator.hpp>

namespace {

constexpr double step_seconds = 900;

// Sums what households report in each 15-minute step.
class aggregator : public sim::agent {
  public:
    explicit aggregator(sim::container& c) : agent(c) {
        expose(
            "report", [this](double kw) { sum_ += kw; }, sim::arg("kw"));
        observable("total_kw", [this] { return total_; });
        start([this] {
            for (;;) {
                clock().sleep_for(step_seconds);  // woken first: registered first
                total_ = sum_;
                sum_ = 0;
            }
        });
    }

  private:
    double sum_ = 0, total_ = 0;
};

// Uses less when the price is high; reports its load to the aggregator each step.
class household : public sim::agent {
  public:
    household(sim::container& c, double base_kw, std::string aggregator)
        : agent(c), base_(base_kw) {
        expose(
            "price",
            [this](const sim::map& sources) {
                double p = 0;
                for (const auto& [src, v] : sources)
                    p = std::max(p, v.as<double>());
                price_ = p;
            },
            sim::arg("sources"));
        observable("load_kw", [this] { return load_; });
        observable("price", [this] { return price_; });
        start([this, aggregator] {
            sim::proxy agg;
            if (!aggregator.empty()) agg = connect(aggregator);
            for (;;) {
                clock().sleep_for(step_seconds);
                load_ = base_ * (price_ > 0.3 ? 0.8 : 1.0);
                if (agg) agg.call("report", load_);
            }
        });
    }

  private:
    double base_, price_ = 0, load_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    std::optional<sim::mosaik::options> opts;
    try {
        opts = sim::mosaik::parse_command_line(argc, argv, "libsim agents as a mosaik simulator");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
        return 2;
    }
    if (!opts) return 0;
    sim::agent_registry types;
    types.add<aggregator>("Aggregator");
    types.add<household, double, std::string>("Household", sim::arg("base_kw") = 1.0,
                                              sim::arg("aggregator") = std::string());
    sim::mosaik::container_simulator sim(types, {{"Aggregator", {.attrs = {"total_kw"}}},
                                                 {"Household",
                                                  {.params = {"base_kw", "aggregator"},
                                                   .attrs = {"price", "load_kw"},
                                                   .trigger = {"price"}}}});
    return sim::mosaik::serve(sim, *opts);
}

// Loads and runs a scenario written here, with an agent type of its own: the scenario layer
// works from the installed package.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <sim/agent/agent.hpp>
#include <sim/agent/container.hpp>
#include <sim/agent/registry.hpp>
#include <sim/scenario/runner.hpp>
#include <sim/scenario/scenario.hpp>

namespace {
class tick : public sim::agent {
  public:
    explicit tick(sim::container& c) : agent(c) {
        observable("ticks", [this] { return ticks_; });
        start(&tick::run);
    }
    void run() {
        for (;;) {
            clock().sleep_for(1);
            ++ticks_;
        }
    }

  private:
    int ticks_ = 0;
};
}  // namespace

int main() {
    const auto dir = std::filesystem::temp_directory_path() / "libsim-scenario-consumer";
    std::filesystem::create_directories(dir);
    {
        std::ofstream f(dir / "ticks.yaml");
        f << "name: ticks\n"
             "seed: 1\n"
             "clock: {mode: virtual, start: \"2026-01-01T00:00:00Z\", until: 5, step: 1}\n"
             "containers:\n"
             "  - {name: main}\n"
             "agents:\n"
             "  - {name: tick, type: tick, count: 2}\n"
             "record:\n"
             "  - {agents: tick, observe: [ticks], to: ticks.csv}\n";
    }
    sim::agent_registry types;
    types.add<tick>("tick");
    sim::run_options o;
    o.out_dir = (dir / "out").string();
    sim::run_summary summary =
        sim::run_scenario(sim::load_scenario((dir / "ticks.yaml").string()), types, o);
    std::printf("steps %llu\n", static_cast<unsigned long long>(summary.steps));
    return summary.steps > 0 ? 0 : 1;
}

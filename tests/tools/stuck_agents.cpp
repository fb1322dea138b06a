// A plugin for the tests of a run that hangs: a `spinner` counts steps and, from time `at` on,
// keeps its container's thread busy for `hold` wall-clock seconds without yielding, so that the
// step to `at` cannot end and the runner waits on a container that does not answer. When it
// starts spinning it creates the file `mark` (if given), so that a test knows the run hangs.

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>

#include <sim/agent/agent.hpp>
#include <sim/agent/container.hpp>
#include <sim/scenario/plugin.hpp>

namespace {

class spinner : public sim::agent {
  public:
    spinner(sim::container& c, double at, double hold, std::string mark) : agent(c) {
        observable("steps", [this] { return steps_; });
        start([this, at, hold, mark] {
            for (;;) {
                clock().sleep_for(1);
                ++steps_;
                if (clock().now() < at) continue;
                if (!mark.empty()) std::ofstream(mark) << "spinning\n";
                const auto until = std::chrono::steady_clock::now() +
                                   std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                       std::chrono::duration<double>(hold));
                while (std::chrono::steady_clock::now() < until) {
                    // busy, as an agent stuck in a computation would be
                }
            }
        });
    }

  private:
    std::int64_t steps_ = 0;
};

}  // namespace

SIM_AGENT_PLUGIN(types) {
    using sim::arg;
    types.add<spinner, double, double, std::string>("spinner", arg("at") = 5.0, arg("hold") = 120.0,
                                                    arg("mark") = std::string());
}

#include "example_agents.hpp"

#include <string>
#include <vector>

#include <sim/agent/agent.hpp>
#include <sim/agent/container.hpp>

namespace sim_runner {

namespace {

// hello.yaml: every `period` it pings each agent it knows, which answers how many pings it has
// had. Observables: sent, received, answers (the sum of the answers it got).
class pinger : public sim::agent {
  public:
    pinger(sim::container& c, double period, std::vector<std::string> knows)
        : agent(c), period_(period), knows_(std::move(knows)) {
        expose(
            "ping",
            [this](const std::string& from) {
                (void)from;
                return ++received_;
            },
            sim::arg("from"));
        observable("sent", [this] { return sent_; });
        observable("received", [this] { return received_; });
        observable("answers", [this] { return answers_; });
        start(&pinger::run);
    }

  private:
    void run() {
        std::vector<sim::proxy> peers;
        for (const auto& url : knows_)
            peers.push_back(connect(url));
        for (;;) {
            clock().sleep_for(period_);
            for (auto& p : peers) {
                answers_ += p.call<std::int64_t>("ping", address());
                ++sent_;
            }
        }
    }

    double period_;
    std::vector<std::string> knows_;
    std::int64_t sent_ = 0, received_ = 0, answers_ = 0;
};

}  // namespace

void add_example_agents(sim::agent_registry& types) {
    using sim::arg;
    types.add<pinger, double, std::vector<std::string>>("pinger", arg("period") = 1.0,
                                                        arg("knows") = std::vector<std::string>{});
}

}  // namespace sim_runner

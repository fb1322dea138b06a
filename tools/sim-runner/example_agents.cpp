#include "example_agents.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include <sim/agent/agent.hpp>
#include <sim/agent/container.hpp>
#include <sim/agent/rng.hpp>

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

// gossip-100k.yaml: a rumour. An agent that hears it (or starts with it) tells every agent it
// knows one time unit later, once. Observables: informed (0/1), heard (how often it was told).
class rumour : public sim::agent {
  public:
    rumour(sim::container& c, bool informed, std::vector<std::string> knows)
        : agent(c), knows_(std::move(knows)) {
        expose(
            "tell",
            [this](const std::string& from) {
                (void)from;
                hear();
            },
            sim::arg("from") = std::string());
        observable("informed", [this] { return informed_ ? 1 : 0; });
        observable("heard", [this] { return heard_; });
        if (informed) {
            --heard_;  // starting with it is not hearing it
            hear();
        }
    }

  private:
    void hear() {
        ++heard_;
        if (informed_) return;
        informed_ = true;
        start([this] {
            clock().sleep_for(1);
            for (const auto& url : knows_)
                connect(url).call("tell", address());
        });
    }

    std::vector<std::string> knows_;
    bool informed_ = false;
    std::int64_t heard_ = 0;
};

// smart-grid.yaml: the aggregator. Each step it opens a market at a price set by the previous
// step's balance (it falls with supply, rises with demand); households bid what they would
// export (> 0) or import (< 0) and get that price. Bids are summed in whole milliwatts, so the
// balance does not depend on the order bids arrive in (households in other containers bid in
// another order). Observables: balance_kw (the sum of the step's bids), price, bids.
class aggregator : public sim::agent {
  public:
    aggregator(sim::container& c, double base_price, double slope, double step)
        : agent(c), base_price_(base_price), slope_(slope), step_(step), price_(base_price) {
        expose(
            "bid",
            [this](double kw) {
                balance_mw_ += std::llround(kw * 1e6);
                ++bids_;
                return price_;
            },
            sim::arg("kw"));
        observable("balance_kw", [this] { return static_cast<double>(balance_mw_) / 1e6; });
        observable("price", [this] { return std::round(price_ * 1e6) / 1e6; });
        observable("bids", [this] { return bids_; });
        start([this] {
            // Registered first, so it wakes first in each step: the market opens before the bids.
            for (;;) {
                clock().sleep_for(step_);
                const double last_kw = static_cast<double>(balance_mw_) / 1e6;
                price_ = std::max(0.0, base_price_ - slope_ * last_kw);
                balance_mw_ = 0;
                bids_ = 0;
            }
        });
    }

  private:
    double base_price_, slope_, step_;
    double price_;
    std::int64_t balance_mw_ = 0;
    std::int64_t bids_ = 0;
};

// smart-grid.yaml: a household with PV panels, a battery and a load. Each step it works out
// its PV output and load for the hour of the day, charges or discharges the battery, and bids
// the rest to the aggregator it knows. Observables: pv_kw, load_kw, soc_kwh, grid_kw (> 0
// export), revenue (money earned so far). Its load varies by up to 10% from step to step, drawn
// from `noise_seed`.
class household : public sim::agent {
  public:
    household(sim::container& c, double pv_kw, double battery_kwh, double base_load_kw, double step,
              std::uint64_t noise_seed, std::vector<std::string> knows)
        : agent(c),
          pv_peak_(pv_kw),
          capacity_(battery_kwh),
          base_load_(base_load_kw),
          step_(step),
          noise_(noise_seed),
          knows_(std::move(knows)) {
        soc_ = capacity_ / 2;
        observable("pv_kw", [this] { return std::round(pv_ * 1000) / 1000; });
        observable("load_kw", [this] { return std::round(load_ * 1000) / 1000; });
        observable("soc_kwh", [this] { return std::round(soc_ * 1000) / 1000; });
        observable("grid_kw", [this] { return std::round(grid_ * 1000) / 1000; });
        observable("revenue", [this] { return std::round(revenue_ * 1e6) / 1e6; });
        start(&household::run);
    }

  private:
    void run() {
        std::vector<sim::proxy> markets;
        for (const auto& url : knows_)
            markets.push_back(connect(url));
        const double hours = step_ / 3600;
        for (;;) {
            clock().sleep_for(step_);
            const double day_seconds =
                std::fmod(clock().utcnow().seconds_since(sim::utc_time()), 86400);
            const double h = day_seconds / 3600;
            pv_ = h > 6 && h < 18 ? pv_peak_ * std::sin(std::numbers::pi * (h - 6) / 12) : 0;
            const double peak = (h >= 18 && h < 22 ? 0.8 : 0) + (h >= 7 && h < 9 ? 0.4 : 0);
            load_ = base_load_ * (1 + peak) * (1 + noise_.uniform(-0.1, 0.1));
            // The battery takes what is left over and covers what is missing, 3 kW at most.
            double net = pv_ - load_;
            double battery_kw = std::clamp(net, -3.0, 3.0);
            battery_kw = std::clamp(battery_kw, -soc_ / hours, (capacity_ - soc_) / hours);
            soc_ += battery_kw * hours;
            grid_ = net - battery_kw;
            for (auto& m : markets)
                revenue_ += grid_ * hours * m.call<double>("bid", grid_);
        }
    }

    double pv_peak_, capacity_, base_load_, step_;
    // Its own numbers, from a parameter: the agent's rng() depends on its container and id,
    // and the same household must behave the same in any container.
    sim::rng noise_;
    std::vector<std::string> knows_;
    double pv_ = 0, load_ = 0, soc_ = 0, grid_ = 0, revenue_ = 0;
};

}  // namespace

void add_example_agents(sim::agent_registry& types) {
    using sim::arg;
    types.add<pinger, double, std::vector<std::string>>("pinger", arg("period") = 1.0,
                                                        arg("knows") = std::vector<std::string>{});
    types.add<rumour, bool, std::vector<std::string>>("rumour", arg("informed") = false,
                                                      arg("knows") = std::vector<std::string>{});
    types.add<aggregator, double, double, double>("aggregator", arg("base_price") = 0.30,
                                                  arg("slope") = 0.0005, arg("step") = 900.0);
    types.add<household, double, double, double, double, std::uint64_t, std::vector<std::string>>(
        "household", arg("pv_kw") = 5.0, arg("battery_kwh") = 10.0, arg("base_load_kw") = 0.6,
        arg("step") = 900.0, arg("noise_seed") = 0, arg("knows") = std::vector<std::string>{});
}

}  // namespace sim_runner

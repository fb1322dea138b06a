#pragma once
// Agents for the agent-layer tests, shared by in-process tests and the container process
// (container_proc.cpp) that tests start as a child.

#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sim/agent/agent.hpp>
#include <sim/agent/container.hpp>
#include <sim/agent/registry.hpp>

#include "agent/vector_agents.hpp"

namespace sim_test {

class counter : public sim::agent {
  public:
    explicit counter(sim::container& c, int start = 0) : agent(c), n(start) {
        expose("add", &counter::add, sim::arg("k") = 1);
        expose("get", [this] { return n; });
    }
    int add(int k) { return n += k; }
    int n;
};

// Sleeps `period` at a time, forever, counting its wake-ups and noting when they happen.
class ticker : public sim::agent {
  public:
    explicit ticker(sim::container& c, double period = 1) : agent(c), period_(period) {
        expose("ticks", [this] { return ticks; });
        start(&ticker::run);
    }
    void run() {
        for (;;) {
            clock().sleep_for(period_);
            ++ticks;
            if (log != nullptr) log->push_back(fmt::format("{}@{}", id(), clock().now()));
        }
    }
    int ticks = 0;
    std::vector<std::string>* log = nullptr;

  private:
    double period_;
};

// FNV-1a over a string, continuing from `h`.
inline std::uint64_t mix(std::uint64_t h, const std::string& s) {
    for (char ch : s) {
        h ^= static_cast<unsigned char>(ch);
        h *= 0x100000001b3ULL;
    }
    return h;
}

// The end of a chain: notes each time it is called with, and answers how many it has.
class recorder : public sim::agent {
  public:
    explicit recorder(sim::container& c) : agent(c) {
        expose(
            "record",
            [this](double t) {
                seen.push_back(t);
                at.push_back(clock().now());
                return seen.size();
            },
            sim::arg("t"));
        expose("seen", [this] { return seen; });
        expose("at", [this] { return at; });
    }
    std::vector<double> seen;
    std::vector<double> at;
};

// Passes a call on to the next agent of the chain and answers what it answered.
class relay : public sim::agent {
  public:
    relay(sim::container& c, std::string next) : agent(c), next_(std::move(next)) {
        expose(
            "relay",
            [this](double t) { return connect(next_).call<std::int64_t>("record", t) + 1000; },
            sim::arg("t"));
    }

  private:
    std::string next_;
};

// Calls `target.relay(now)` every `period`, noting what it got and when.
class pinger : public sim::agent {
  public:
    pinger(sim::container& c, std::string target, double period)
        : agent(c), target_(std::move(target)), period_(period) {
        expose("got", [this] { return got; });
        start(&pinger::run);
    }
    void run() {
        auto p = connect(target_);
        for (;;) {
            clock().sleep_for(period_);
            got.push_back({clock().now(), p.call<double>("relay", clock().now())});
        }
    }
    std::vector<std::pair<double, double>> got;

  private:
    std::string target_;
    double period_;
};

// Sends notes to every peer at random times; both the receiver's answer and what the sender
// makes of the answers depend on the order in which notes are processed.
class gossip : public sim::agent {
  public:
    gossip(sim::container& c, std::vector<std::string> peers, int rounds)
        : agent(c), peers_(std::move(peers)), rounds_(rounds) {
        expose(
            "note",
            [this](std::string who, double t) {
                state_ = mix(state_, fmt::format("{}@{};", who, t));
                return std::to_string(state_);
            },
            sim::arg("who"), sim::arg("t"));
        expose("digest",
               [this] { return std::to_string(state_) + "/" + std::to_string(answers_); });
        start(&gossip::run);
    }
    void run() {
        std::vector<sim::proxy> ps;
        const std::string me = container().name() + "/" + id();
        for (int k = 0; k < rounds_; ++k) {
            clock().sleep_for(static_cast<double>(1 + rng().below(3)));
            // Connects in the first step, once every peer has been spawned.
            if (ps.empty())
                for (const auto& url : peers_)
                    ps.push_back(connect(url));
            for (auto& p : ps) {
                start([this, p, me] {
                    auto answer = p.call<std::string>("note", me, clock().now());
                    answers_ = mix(answers_, answer + ";");
                });
            }
        }
    }

  private:
    std::vector<std::string> peers_;
    int rounds_;
    std::uint64_t state_ = 0xcbf29ce484222325ULL;
    std::uint64_t answers_ = 0xcbf29ce484222325ULL;
};

inline sim::agent_registry test_registry() {
    sim::agent_registry r;
    using sim::arg;
    r.add<callee>("vector_services:Callee");
    r.add<counter, int>("counter", arg("start") = 0);
    r.add<ticker, double>("ticker", arg("period") = 1.0);
    r.add<recorder>("recorder");
    r.add<relay, std::string>("relay", arg("next"));
    r.add<pinger, std::string, double>("pinger", arg("target"), arg("period"));
    r.add<gossip, std::vector<std::string>, int>("gossip", arg("peers"), arg("rounds"));
    return r;
}

}  // namespace sim_test

#pragma once
// The agents the aiomas vectors' `agents` scenario was captured against, in C++: a Callee (agent
// 1 of the listening container, and what its manager spawns) and the calling side's agent 0,
// which exposes `double` for the callback.

#include <cmath>

#include <sim/agent/agent.hpp>
#include <sim/agent/container.hpp>
#include <sim/agent/registry.hpp>

#include "rpc/vector_services.hpp"

namespace sim_test {

// A time as aiomas prints it: 30, not 30.0.
inline sim::value time_of(double t) {
    if (t == std::floor(t)) return sim::value(static_cast<std::int64_t>(t));
    return sim::value(t);
}

class callee : public sim::agent {
  public:
    explicit callee(sim::container& c) : agent(c) {
        using sim::arg;
        expose("spam", &callee::spam, arg("times"));
        expose("call_peer", &callee::call_peer, arg("peer"), arg("x"));
        expose("date_shift", &callee::date_shift, arg("date"), arg("seconds"));
        expose("now", &callee::now);
        expose("sleep_for", &callee::sleep_for, arg("dt"));
        expose("fail", &callee::fail, arg("msg"));
    }
    std::string type_name() const override { return "Callee"; }

    std::string spam(int times) const {
        std::string out;
        for (int i = 0; i < times; ++i)
            out += "spam";
        return out;
    }
    sim::value call_peer(sim::proxy peer, sim::value x) { return peer.call("double", x); }
    sim::utc_time date_shift(sim::utc_time date, double seconds) {
        return date.plus_seconds(seconds);
    }
    sim::array now() { return {time_of(clock().now()), clock().utcnow().to_string()}; }
    sim::value sleep_for(double dt) {
        clock().sleep_for(dt);
        return time_of(clock().now());
    }
    sim::value fail(std::string msg) { throw std::invalid_argument(msg); }
};

class caller : public sim::agent {
  public:
    explicit caller(sim::container& c) : agent(c) {
        expose(
            "double", [](std::int64_t x) { return 2 * x; }, sim::arg("x"));
    }
    std::string type_name() const override { return "Caller"; }
};

// Containers of the `agents` scenario: the date serializer (added by the container), Point.
inline sim::container_options vector_container_options(const std::string& codec,
                                                       bool virtual_time) {
    sim::container_options o;
    o.channel = vector_options(codec);
    if (virtual_time) o.clock = sim::virtual_time{"2016-01-01T00:00:00+00:00", 0};
    return o;
}

inline sim::agent_registry vector_registry() {
    sim::agent_registry r;
    r.add<callee>("vector_services:Callee");
    return r;
}

}  // namespace sim_test

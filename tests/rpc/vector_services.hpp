#pragma once
// The services the aiomas vectors were captured against (their `rpc_*` scenarios), in C++: the
// same paths, arguments and results, so that the captured conversations replay against them.

#include <boost/fiber/operations.hpp>

#include <sim/rpc/connection.hpp>
#include <sim/rpc/router.hpp>

namespace sim_test {

/// aiomas' @serializable Point(x, y); fields keep whatever numbers they were given.
struct point {
    sim::value x;
    sim::value y;
    template <class Archive>
    void serialize(Archive& ar) {
        ar(CEREAL_NVP(x), CEREAL_NVP(y));
    }
};

/// The serializer tables of the RPC scenarios: 0 = Point (the connection adds 1 = references).
inline sim::channel_options vector_options(const std::string& codec) {
    sim::channel_options o;
    o.codec = codec;
    o.codec_settings.serializers.add<point>();
    return o;
}

struct math_service {
    sim::rpc::router router;
    math_service() {
        using sim::rpc::arg;
        router.expose(
            "add",
            [](sim::value a, sim::value b, sim::value scale) {
                if (a.is_float() || b.is_float() || scale.is_float()) {
                    return sim::value((a.as_double() + b.as_double()) * scale.as_double());
                }
                return sim::value((a.as_int64() + b.as_int64()) * scale.as_int64());
            },
            arg("a"), arg("b"), arg("scale") = 1);
        router.expose("div", [](double a, double b) {
            if (b == 0) throw sim::rpc::fault("ZeroDivisionError", "division by zero");
            return a / b;
        });
    }
};

struct calc_service {
    sim::rpc::router router;
    math_service math;
    calc_service() {
        router.expose("version", [] { return std::string("calc-1"); });
        router.add("math", math.router);
    }
};

/// The root service of the vectors' RPC server.
struct vector_service {
    sim::rpc::router router;
    calc_service calc;
    vector_service() {
        router.expose("ping", [] { return std::string("pong"); });
        router.expose("echo", [](sim::value v) { return v; });
        router.expose_raw("echo_kw", [](sim::rpc::call_arguments call) {
            return sim::value(sim::array{sim::value(call.args), sim::value(call.kwargs)});
        });
        router.expose("fail", [](std::string message) -> sim::value {
            throw sim::rpc::fault("ValueError", message);
        });
        router.expose("point_norm2", [](point p) {
            if (p.x.is_float() || p.y.is_float()) {
                return sim::value(p.x.as_double() * p.x.as_double() +
                                  p.y.as_double() * p.y.as_double());
            }
            return sim::value(p.x.as_int64() * p.x.as_int64() + p.y.as_int64() * p.y.as_int64());
        });
        router.expose("make_point", [](sim::value x, sim::value y) { return point{x, y}; });
        router.expose("slow_echo", [](sim::value v, double delay) {
            boost::this_fiber::sleep_for(std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::duration<double>(delay)));
            return v;
        });
        router.expose("give_bytes", [] {
            return sim::bytes{std::byte{0x00}, std::byte{0x01}, std::byte{0xfe}, std::byte{0xff}};
        });
        router.expose("call_back", [](sim::rpc::proxy service, sim::value x) {
            return service.call("mul2", x);
        });
        router.expose("call_back_sub",
                      [](sim::rpc::proxy service, sim::value x) { return service.call("neg", x); });
        router.add("calc", calc.router);
    }
};

/// The client's service in the `rpc_bidirectional` scenario: mul2 at the root, neg in "sub".
struct client_service {
    sim::rpc::router router;
    sim::rpc::router sub;
    client_service() {
        router.expose("mul2", [](std::int64_t x) { return 2 * x; });
        sub.expose("neg", [](std::int64_t x) { return -x; });
        router.add("sub", sub);
    }
};

}  // namespace sim_test

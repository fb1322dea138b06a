// The aiomas vectors' `agents` conversation, captured between two Python aiomas containers,
// replayed against our container (a raw client sends the captured requests and compares our
// replies and our callback) and spoken by our container to a raw server (which compares our
// requests byte for byte and answers with the captured replies).

#include <catch2/catch.hpp>

#include <boost/fiber/operations.hpp>

#include <sim/agent/container.hpp>
#include <sim/agent/manager.hpp>
#include <sim/channel/message.hpp>
#include <sim/codec/logical.hpp>
#include <sim/core/error.hpp>

#include "agent/vector_agents.hpp"
#include "support/net.hpp"
#include "support/test_support.hpp"

using sim::array;
using sim::value;

namespace {

// The listening container's address when the scenario was captured.
constexpr int captured_port = 45311;

struct captured {
    std::string name;
    bool c2s;
    std::vector<std::byte> frame;
    value logical;
};

std::vector<captured> agents_scenario(const sim_test::vector_file& file) {
    std::vector<captured> out;
    for (const value& v : file.doc["vectors"].as_array()) {
        if (v["scenario"] != value("agents")) continue;
        out.push_back({v["name"].as_string(), v["direction"] == value("c2s"),
                       sim_test::from_hex(v["frame_hex"].as_string()),
                       sim::from_logical(v["logical"])});
    }
    REQUIRE(out.size() == 30);
    return out;
}

// The exception type on a traceback's last line: "ValueError: agent boom" -> "ValueError".
std::string exception_type(const std::string& traceback) {
    std::size_t end = traceback.find_last_not_of('\n');
    std::size_t start = traceback.rfind('\n', end);
    std::string line = traceback.substr(start == std::string::npos ? 0 : start + 1, end - start);
    std::string type = line.substr(0, line.find(':'));
    return type.substr(type.rfind('.') == std::string::npos ? 0 : type.rfind('.') + 1);
}

// Replaces the captured port in every string of `v` (the spawn result names the address).
value with_port(const value& v, int port) {
    if (const auto* s = v.get_if<std::string>()) {
        std::string out = *s;
        const std::string from = ":" + std::to_string(captured_port) + "/";
        if (auto at = out.find(from); at != std::string::npos)
            out.replace(at, from.size(), ":" + std::to_string(port) + "/");
        return value(out);
    }
    if (const auto* a = v.get_if<array>()) {
        array out;
        for (const value& x : *a)
            out.push_back(with_port(x, port));
        return value(std::move(out));
    }
    if (const auto* m = v.get_if<sim::map>()) {
        sim::map out;
        for (const auto& [k, x] : *m)
            out.insert_or_assign(k, with_port(x, port));
        return value(std::move(out));
    }
    return v;
}

// Compares a frame we sent with the captured one: byte for byte, except an exception's
// traceback (only its type must match) and, when we could not bind the captured port, the
// port in an address.
void check_same(const captured& want, std::span<const std::byte> got, sim::codec& codec, int port) {
    CAPTURE(want.name);
    auto m = sim::decode_message(codec, got.subspan(4));
    if (want.logical[0] == value(2)) {
        CHECK(m.type == sim::message_type::exception);
        CHECK(m.id == want.logical[1]);
        REQUIRE(m.content.is_string());
        CHECK(exception_type(m.content.as_string()) == exception_type(want.logical[2].as_string()));
        return;
    }
    if (port != captured_port) {
        CHECK(m.content == with_port(want.logical[2], port));
        CHECK(m.id == want.logical[1]);
        return;
    }
    CHECK(sim_test::to_hex(got) == sim_test::to_hex(want.frame));
}

// Our container at the captured address if it is free (then the frames match byte for byte),
// else at any port.
std::unique_ptr<sim::container> listening_container(const std::string& codec) {
    auto options = sim_test::vector_container_options(codec, true);
    try {
        return std::make_unique<sim::container>("tcp://127.0.0.1:" + std::to_string(captured_port),
                                                options);
    } catch (const sim::connection_error&) {
        WARN("port " << captured_port << " is taken: comparing the spawn result by value");
        return std::make_unique<sim::container>("tcp://127.0.0.1:0", options);
    }
}

}  // namespace

TEST_CASE("our container answers the vectors' agents conversation", "[agent][vectors]") {
    static const sim::agent_registry types = sim_test::vector_registry();
    for (const auto& file : sim_test::all_vector_files()) {
        DYNAMIC_SECTION(file.codec) {
            sim::runtime rt;
            rt.run([&] {
                auto c = listening_container(file.codec);
                c->spawn<sim::manager>(types);
                c->spawn<sim_test::callee>();
                const int port = c->local_address().port;
                boost::system::error_code ec;
                auto raw = sim::connect_stream(c->local_address(), {}, ec);
                REQUIRE(raw);
                auto codec =
                    sim::make_codec(file.codec, sim::codec_options{.decode_envelopes = false});
                // The raw client sends what container A sent (its answer to B's callback
                // included) and reads what B sent, in the captured order.
                for (const auto& f : agents_scenario(file)) {
                    if (f.c2s) {
                        sim_test::write_bytes(*raw, f.frame);
                    } else {
                        auto got = sim_test::read_frame(*raw);
                        REQUIRE_FALSE(got.empty());
                        check_same(f, got, *codec, port);
                    }
                }
                // The manager's spawn made agent 2, and set_time moved the clock.
                CHECK(c->find("2") != nullptr);
                CHECK(c->clock().now() == 30);
            });
        }
    }
}

TEST_CASE("our container speaks the vectors' agents conversation", "[agent][vectors]") {
    for (const auto& file : sim_test::all_vector_files()) {
        DYNAMIC_SECTION(file.codec) {
            sim::runtime rt;
            rt.run([&] {
                auto frames = agents_scenario(file);
                auto listener = sim::listen_on(sim::address::tcp("127.0.0.1", 0), {});
                // The raw server stands for container B: it expects each captured c2s frame in
                // turn and answers with the captured s2c frames.
                std::vector<std::string> mismatched;
                int compared = 0;
                bool served = false;
                sim::spawn([&] {
                    boost::system::error_code ec;
                    auto s = listener->accept(ec);
                    for (const auto& f : frames) {
                        if (f.c2s) {
                            auto got = sim_test::read_frame(*s);
                            ++compared;
                            if (got != f.frame)
                                mismatched.push_back(f.name + ": " + sim_test::to_hex(got));
                        } else {
                            sim_test::write_bytes(*s, f.frame);
                        }
                    }
                    served = true;
                    sim_test::read_frame(*s);  // until the client goes
                });

                sim::container a("tcp://127.0.0.1:0",
                                 sim_test::vector_container_options(file.codec, false));
                auto& me = a.spawn<sim_test::caller>();
                const std::string b =
                    "tcp://127.0.0.1:" + std::to_string(listener->local_address().port) + "/";
                auto callee = me.connect(b + "1");
                CHECK(callee.call<std::string>("spam", 3) == "spamspamspam");
                CHECK(callee.call<int>("call_peer", me.ref(), 21) == 42);
                CHECK(callee.call<sim::utc_time>(
                          "date_shift", sim::utc_time::parse("2016-01-01T12:30:00+00:00"), 90) ==
                      sim::utc_time::parse("2016-01-01T12:31:30+00:00"));
                CHECK(callee.call("now") == value(array{0, "2016-01-01T00:00:00+00:00"}));
                auto mgr = me.connect(b + "0");
                // sleep_for(30) goes first and is answered after set_time(30).
                value slept;
                bool woke = false;
                sim::spawn([&] {
                    slept = callee.call("sleep_for", 30);
                    woke = true;
                });
                boost::this_fiber::yield();
                CHECK(mgr.call("set_time", 30).is_nil());
                REQUIRE(sim_test::eventually([&] { return woke; }));
                CHECK(slept == value(30));
                CHECK(callee.call("now") == value(array{30, "2016-01-01T00:00:30+00:00"}));
                try {
                    mgr.call("set_time", 10);
                    FAIL("set_time to the past succeeded");
                } catch (const sim::remote_error& e) {
                    CHECK(e.type() == "ValueError");
                    CHECK(e.message() == "Time must be > 30 but is 10");
                }
                auto made = mgr.call("spawn", "vector_services:Callee");
                REQUIRE(made.as_array().size() == 2);
                CHECK(made[1] == value("tcp://127.0.0.1:45311/2"));
                CHECK(made[0].as<sim::proxy>().call<std::string>("spam", 1) == "spam");
                try {
                    callee.call("fail", "agent boom");
                    FAIL("fail did not fail");
                } catch (const sim::remote_error& e) {
                    CHECK(e.type() == "ValueError");
                    CHECK(e.message() == "agent boom");
                }
                CHECK_THROWS_AS(me.connect(b + "9"), sim::lookup_error);
                REQUIRE(sim_test::eventually([&] { return served; }));
                CHECK(compared == 15);
                CHECK(mismatched.empty());
                for (const auto& m : mismatched)
                    UNSCOPED_INFO(m);
            });
        }
    }
}

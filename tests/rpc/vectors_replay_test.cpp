// The aiomas vectors' RPC conversations, replayed against our server (a raw client sends the
// captured requests and compares our replies) and against our client (a raw server compares our
// requests and answers with the captured replies). Ids, paths and contents must match byte for
// byte, except the text of tracebacks, of which the exception type must match.

#include <catch2/catch.hpp>

#include <sim/channel/message.hpp>
#include <sim/codec/logical.hpp>

#include "rpc/vector_services.hpp"
#include "support/net.hpp"
#include "support/test_support.hpp"

using sim::array;
using sim::map;
using sim::value;
using sim::rpc::kw;

namespace {

struct captured {
    std::string name;
    bool c2s;
    std::vector<std::byte> frame;
    value logical;
};

std::vector<captured> scenario(const sim_test::vector_file& file, const std::string& name) {
    std::vector<captured> out;
    for (const value& v : file.doc["vectors"].as_array()) {
        if (v["scenario"] != value(name)) continue;
        out.push_back({v["name"].as_string(), v["direction"] == value("c2s"),
                       sim_test::from_hex(v["frame_hex"].as_string()),
                       sim::from_logical(v["logical"])});
    }
    return out;
}

// "aiomas.exceptions.SerializationError: x" -> "SerializationError".
std::string exception_type(const std::string& traceback) {
    std::size_t end = traceback.find_last_not_of('\n');
    std::size_t start = traceback.rfind('\n', end);
    std::string line = traceback.substr(start == std::string::npos ? 0 : start + 1, end - start);
    std::string type = line.substr(0, line.find(':'));
    return type.substr(type.rfind('.') == std::string::npos ? 0 : type.rfind('.') + 1);
}

// Compares a frame we produced with the captured one: bytes, or for an exception reply the id and
// the exception's type.
void check_same(const captured& want, std::span<const std::byte> got, sim::codec& codec) {
    CAPTURE(want.name);
    const value& content = want.logical[2];
    if (want.logical[0] == value(2)) {
        auto m = sim::decode_message(codec, got.subspan(4));
        CHECK(m.type == sim::message_type::exception);
        CHECK(m.id == want.logical[1]);
        REQUIRE(m.content.is_string());
        CHECK(exception_type(m.content.as_string()) == exception_type(content.as_string()));
        return;
    }
    CHECK(sim_test::to_hex(got) == sim_test::to_hex(want.frame));
}

}  // namespace

TEST_CASE("our RPC server answers the vectors' conversations", "[rpc][vectors]") {
    for (const auto& file : sim_test::all_vector_files()) {
        for (const char* name :
             {"rpc_calls", "rpc_errors", "rpc_values", "rpc_custom", "rpc_bidirectional"}) {
            DYNAMIC_SECTION(file.codec << " " << name) {
                sim::runtime rt;
                rt.run([&] {
                    sim_test::vector_service service;
                    auto srv = sim::rpc::start_server("tcp://127.0.0.1:0", service.router, {},
                                                      sim_test::vector_options(file.codec));
                    boost::system::error_code ec;
                    auto raw = sim::connect_stream(srv.local_address(), {}, ec);
                    REQUIRE(raw);
                    auto codec =
                        sim::make_codec(file.codec, sim::codec_options{.decode_envelopes = false});
                    auto frames = scenario(file, name);
                    // Send what the client sent when it sent it; read what the server sent and
                    // compare it with the capture. Replies that come out of order in the capture
                    // (rpc_custom) come out of order here too.
                    for (const auto& f : frames) {
                        if (f.c2s) {
                            sim_test::write_bytes(*raw, f.frame);
                        } else {
                            auto got = sim_test::read_frame(*raw);
                            REQUIRE_FALSE(got.empty());
                            check_same(f, got, *codec);
                        }
                    }
                });
            }
        }
    }
}

TEST_CASE("our RPC client sends the vectors' conversations", "[rpc][vectors]") {
    for (const auto& file : sim_test::all_vector_files()) {
        for (const char* name :
             {"rpc_calls", "rpc_errors", "rpc_values", "rpc_custom", "rpc_bidirectional"}) {
            DYNAMIC_SECTION(file.codec << " " << name) {
                sim::runtime rt;
                rt.run([&] {
                    auto frames = scenario(file, name);
                    auto listener = sim::listen_on(sim::address::tcp("127.0.0.1", 0), {});
                    // The raw server: expects each captured c2s frame in turn, answers with the
                    // captured s2c frames. Frames our client sends concurrently (rpc_custom) may
                    // come in either order, so a c2s frame is matched against the next two.
                    int matched = 0, expected = 0;
                    sim::spawn([&] {
                        boost::system::error_code ec;
                        auto s = listener->accept(ec);
                        std::vector<std::vector<std::byte>> pending;
                        for (const auto& f : frames) {
                            if (f.c2s) {
                                ++expected;
                                auto got = sim_test::read_frame(*s);
                                if (got == f.frame) {
                                    ++matched;
                                } else {
                                    pending.push_back(std::move(got));
                                    UNSCOPED_INFO("unexpected frame for "
                                                  << f.name << ": "
                                                  << sim_test::to_hex(pending.back()));
                                }
                            } else {
                                sim_test::write_bytes(*s, f.frame);
                            }
                        }
                        sim_test::read_frame(*s);  // until the client goes
                    });

                    sim_test::client_service client_side;
                    auto conn =
                        sim::rpc::open_connection(listener->local_address(), &client_side.router,
                                                  sim_test::vector_options(file.codec));
                    auto remote = conn.remote();
                    auto expect_remote = [](auto&& call, const char* type) {
                        try {
                            call();
                            FAIL("expected a remote error " << type);
                        } catch (const sim::remote_error& e) {
                            CHECK(exception_type(e.traceback()) == type);
                        }
                    };
                    const std::string n = name;
                    if (n == "rpc_calls") {
                        CHECK(remote.call<std::string>("ping") == "pong");
                        CHECK(remote["calc"]["math"].call<int>("add", 1, 2, kw("scale", 3)) == 9);
                        CHECK(remote["calc"].call<std::string>("version") == "calc-1");
                        CHECK(
                            remote.call("echo_kw", 1, "two", kw("z", nullptr), kw("a", array{1})) ==
                            value(array{array{1, "two"}, map{{"z", nullptr}, {"a", array{1}}}}));
                    } else if (n == "rpc_errors") {
                        expect_remote([&] { remote.call("fail", "boom"); }, "ValueError");
                        expect_remote([&] { remote.call("nope"); }, "LookupError");
                        expect_remote([&] { remote["calc"]["math"].call("nope", 1); },
                                      "LookupError");
                        expect_remote([&] { remote.call("not_exposed"); }, "LookupError");
                        expect_remote([&] { remote["calc"]["math"].call("hidden"); },
                                      "LookupError");
                        expect_remote([&] { remote["calc"]["math"].call("div", 1, 0); },
                                      "ZeroDivisionError");
                        expect_remote([&] { remote["calc"]["math"].call("add", 1); }, "TypeError");
                    } else if (n == "rpc_values") {
                        // Echo exactly the value each captured request carried.
                        for (const auto& f : frames) {
                            if (!f.c2s) continue;
                            const value& arg = f.logical[2][1][0];
                            CHECK(remote.call("echo", arg) == arg);
                        }
                    } else if (n == "rpc_custom") {
                        CHECK(remote.call<int>("point_norm2",
                                               sim_test::point{value(3), value(4)}) == 25);
                        auto p = remote.call<sim_test::point>("make_point", 1.5, -2);
                        CHECK(p.x == value(1.5));
                        CHECK(p.y == value(-2));
                        std::vector<std::string> order;
                        sim::spawn([&] {
                            order.push_back(remote.call<std::string>("slow_echo", "slow", 0.2));
                        });
                        sim::spawn([&] {
                            order.push_back(remote.call<std::string>("slow_echo", "fast", 0.0));
                        });
                        REQUIRE(sim_test::eventually([&] { return order.size() == 2; }));
                        CHECK(order == std::vector<std::string>{"fast", "slow"});
                        if (file.codec == "json") {
                            expect_remote([&] { remote.call("give_bytes"); }, "SerializationError");
                        } else {
                            CHECK(remote.call<sim::bytes>("give_bytes").size() == 4);
                        }
                    } else if (n == "rpc_bidirectional") {
                        CHECK(remote.call<int>("call_back", sim::rpc::ref(client_side.router),
                                               21) == 42);
                        CHECK(remote.call<int>("call_back_sub", sim::rpc::ref(client_side.sub),
                                               5) == -5);
                    }
                    CHECK(matched == expected);
                });
            }
        }
    }
}

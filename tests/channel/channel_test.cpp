#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include <boost/fiber/operations.hpp>

#include <sim/channel/channel.hpp>
#include <sim/channel/message.hpp>
#include <sim/core/error.hpp>
#include <sim/core/log.hpp>
#include <sim/transport/local_faults.hpp>

#include "support/net.hpp"
#include "support/test_support.hpp"

using namespace std::chrono_literals;
using sim::array;
using sim::map;
using sim::value;

namespace {

// The server of the vectors' `channel` scenario: "ohai" -> "cya", "please fail" -> ValueError 42,
// anything else echoed.
void scenario_server(sim::channel ch) {
    for (;;) {  // until recv() throws connection_closed, which ends the connection's fiber
        sim::request req = ch.recv();
        if (req.content() == value("ohai")) {
            req.reply("cya");
        } else if (req.content() == value("please fail")) {
            req.fail("ValueError", "42");
        } else {
            req.reply(req.content());
        }
    }
}

void echo_server(sim::channel ch) {
    for (;;) {
        sim::request req = ch.recv();
        req.reply(req.content());
    }
}

sim::channel_options with_codec(const std::string& codec, sim::transport_options transport = {}) {
    sim::channel_options o;
    o.codec = codec;
    o.transport = std::move(transport);
    return o;
}

}  // namespace

TEST_CASE("send and recv over every transport and codec", "[channel]") {
    sim_test::temp_dir dir;
    for (const auto& t : sim_test::all_transports(dir)) {
        for (const char* codec : {"json", "msgpack", "msgpack-blosc", "msgpack-lz4"}) {
            DYNAMIC_SECTION(t.name << " " << codec) {
                sim::runtime rt;
                rt.run([&] {
                    auto srv = sim::start_server(t.listen_at, scenario_server,
                                                 with_codec(codec, t.server));
                    auto ch =
                        sim::open_connection(srv.local_address(), with_codec(codec, t.client));
                    CHECK(ch.send("ohai") == value("cya"));
                    try {
                        ch.send("please fail");
                        FAIL("expected a remote error");
                    } catch (const sim::remote_error& e) {
                        CHECK(e.traceback() == "ValueError: 42\n");
                        CHECK(e.type() == "ValueError");
                        CHECK(e.message() == "42");
                        CHECK(e.origin() == ch.peer());
                    }
                    value big(array(5000, value(1.5)));
                    CHECK(ch.send(big) == big);
                    auto stats = ch.stats();
                    CHECK(stats.requests_out == 3);
                    CHECK(stats.frames_in == 3);
                    CHECK(stats.frames_out == 3);
                    CHECK(stats.bytes_out > 0);
                    ch.close();
                    CHECK(ch.closed());
                });
            }
        }
    }
}

TEST_CASE("our server answers the vectors' channel scenario byte for byte", "[channel][vectors]") {
    for (const auto& file : sim_test::all_vector_files()) {
        DYNAMIC_SECTION(file.codec) {
            sim::runtime rt;
            rt.run([&] {
                auto srv =
                    sim::start_server("tcp://127.0.0.1:0", scenario_server, with_codec(file.codec));
                boost::system::error_code ec;
                auto raw = sim::connect_stream(srv.local_address(), {}, ec);
                REQUIRE(raw);
                int checked = 0;
                for (const value& v : file.doc["vectors"].as_array()) {
                    if (v["scenario"] != value("channel")) continue;
                    auto frame = sim_test::from_hex(v["frame_hex"].as_string());
                    if (v["direction"] == value("c2s")) {
                        sim_test::write_bytes(*raw, frame);
                    } else {
                        auto got = sim_test::read_frame(*raw);
                        CAPTURE(v["name"].as_string());
                        CHECK(sim_test::to_hex(got) == v["frame_hex"].as_string());
                        ++checked;
                    }
                }
                CHECK(checked == 3);
            });
        }
    }
}

TEST_CASE("our client sends the vectors' channel scenario byte for byte", "[channel][vectors]") {
    for (const auto& file : sim_test::all_vector_files()) {
        DYNAMIC_SECTION(file.codec) {
            sim::runtime rt;
            rt.run([&] {
                std::vector<value> c2s, s2c;
                for (const value& v : file.doc["vectors"].as_array()) {
                    if (v["scenario"] != value("channel")) continue;
                    (v["direction"] == value("c2s") ? c2s : s2c).push_back(v);
                }
                // A raw server that checks each request's bytes and answers with the captured
                // reply.
                auto listener = sim::listen_on(sim::address::tcp("127.0.0.1", 0), {});
                int matched = 0;
                sim::spawn([&] {
                    boost::system::error_code ec;
                    auto s = listener->accept(ec);
                    for (std::size_t i = 0; i < c2s.size(); ++i) {
                        auto got = sim_test::read_frame(*s);
                        if (sim_test::to_hex(got) == c2s[i]["frame_hex"].as_string()) ++matched;
                        sim_test::write_bytes(*s,
                                              sim_test::from_hex(s2c[i]["frame_hex"].as_string()));
                    }
                });
                auto ch = sim::open_connection(listener->local_address(), with_codec(file.codec));
                CHECK(ch.send("ohai") == value("cya"));
                CHECK_THROWS_MATCHES(ch.send("please fail"), sim::remote_error,
                                     Catch::Message("Origin: " + ch.peer() + "\nValueError: 42\n"));
                value dict(map{{"k", array{1, 2.5, nullptr}}});
                CHECK(ch.send(dict) == dict);
                CHECK(matched == 3);
            });
        }
    }
}

TEST_CASE("replies match their requests by id, in any order", "[channel]") {
    sim::runtime rt;
    rt.run([&] {
        // The server answers each request after a delay the request names: later requests first.
        auto srv = sim::start_server("tcp://127.0.0.1:0", [](sim::channel ch) {
            for (;;) {
                auto req = std::make_shared<sim::request>(ch.recv());
                sim::spawn([req] {
                    boost::this_fiber::sleep_for(
                        std::chrono::milliseconds(req->content().as_int64()));
                    req->reply(req->content());
                });
            }
        });
        auto ch = sim::open_connection(srv.local_address());
        std::vector<std::int64_t> order;
        for (std::int64_t delay : {40, 20, 0}) {
            sim::spawn([&, delay] {
                CHECK(ch.send(value(delay)) == value(delay));
                order.push_back(delay);
            });
        }
        CHECK(sim_test::eventually([&] { return order.size() == 3; }));
        CHECK(order == std::vector<std::int64_t>{0, 20, 40});
    });
}

TEST_CASE("10,000 concurrent requests on one channel", "[channel]") {
    sim::runtime rt;
    rt.run([&] {
        auto srv = sim::start_server("tcp://127.0.0.1:0", echo_server, with_codec("msgpack"));
        auto ch = sim::open_connection(srv.local_address(), with_codec("msgpack"));
        constexpr int n = 10000;
        int ok = 0;
        for (int i = 0; i < n; ++i) {
            sim::spawn([&, i] {
                if (ch.send(value(array{i, "payload"})) == value(array{i, "payload"})) ++ok;
            });
        }
        CHECK(sim_test::eventually([&] { return ok == n; }, 60s));
        // Frames were gathered into far fewer writes than there were requests.
        CHECK(ch.stats().requests_out == n);
    });
}

TEST_CASE("a deadline gives up on a reply, a late reply is dropped, the connection stays up",
          "[channel]") {
    sim::runtime rt;
    rt.run([&] {
        auto srv = sim::start_server("tcp://127.0.0.1:0", [](sim::channel ch) {
            for (;;) {
                auto req = std::make_shared<sim::request>(ch.recv());
                sim::spawn([req] {
                    if (req->content() == value("slow")) boost::this_fiber::sleep_for(100ms);
                    req->reply(req->content());
                });
            }
        });
        auto ch = sim::open_connection(srv.local_address());
        auto start = std::chrono::steady_clock::now();
        CHECK_THROWS_AS(ch.send("slow", sim::deadline(20ms)), sim::timeout_error);
        CHECK(std::chrono::steady_clock::now() - start < 90ms);
        CHECK(ch.stats().timeouts == 1);
        CHECK(sim_test::eventually([&] { return ch.stats().late_replies == 1; }));
        CHECK(ch.send("fast") == value("fast"));
        CHECK_FALSE(ch.closed());
        CHECK(ch.stats().unknown_replies == 0);
    });
}

TEST_CASE("exchange returns a reply as it came, result or exception, and fails as send does",
          "[channel]") {
    sim::runtime rt;
    rt.run([&] {
        // A protocol whose failures are a list (as mosaik's are), not aiomas' traceback text.
        auto srv = sim::start_server("tcp://127.0.0.1:0", [](sim::channel ch) {
            for (;;) {
                sim::request req = ch.recv();
                if (req.content() == value("fail as a list")) {
                    req.fail_with(value(array{"ValueError", "bad step", "detail"}));
                } else if (req.content() == value("fail as text")) {
                    req.fail("KeyError", "'x'");
                } else if (req.content() == value("never")) {
                    auto kept = std::make_shared<sim::request>(std::move(req));
                    sim::spawn([kept] { boost::this_fiber::sleep_for(200ms); });
                } else if (req.content() == value("hang up")) {
                    ch.abort();
                } else {
                    req.reply(req.content());
                }
            }
        });
        auto ch = sim::open_connection(srv.local_address());
        const auto soon = [] { return sim::deadline(5s); };

        auto ok = ch.exchange(value(array{1, "two"}), soon());
        CHECK(ok.type == sim::message_type::result);
        CHECK(ok.content == value(array{1, "two"}));

        auto listed = ch.exchange("fail as a list", soon());
        CHECK(listed.type == sim::message_type::exception);
        CHECK(listed.content == value(array{"ValueError", "bad step", "detail"}));

        auto text = ch.exchange("fail as text", soon());
        CHECK(text.type == sim::message_type::exception);
        CHECK(text.content == value("KeyError: 'x'\n"));

        CHECK_THROWS_AS((void)ch.exchange("never", sim::deadline(20ms)), sim::timeout_error);
        CHECK_FALSE(ch.closed());
        CHECK_THROWS_AS((void)ch.exchange("hang up", soon()), sim::connection_closed);
        CHECK(ch.stats().requests_out == 5);
    });
}

TEST_CASE("a reply with an unknown id is dropped, not fatal", "[channel]") {
    sim::runtime rt;
    rt.run([&] {
        auto listener = sim::listen_on(sim::address::tcp("127.0.0.1", 0), {});
        sim::spawn([&] {
            boost::system::error_code ec;
            auto s = listener->accept(ec);
            auto codec = sim::make_codec("json");
            sim::byte_buffer out;
            sim::encode_frame(*codec, sim::message_type::result, value(999), value("stray"), out);
            sim_test::write_bytes(*s, out.span());
            // Then answer the real request properly.
            auto req = sim_test::read_frame(*s);
            auto m = sim::decode_message(*codec, std::span(req).subspan(4));
            out.clear();
            sim::encode_frame(*codec, sim::message_type::result, m.id, value("real"), out);
            sim_test::write_bytes(*s, out.span());
            sim_test::read_frame(*s);  // until the client goes
        });
        auto ch = sim::open_connection(listener->local_address());
        CHECK(ch.send("x") == value("real"));
        CHECK(ch.stats().unknown_replies == 1);
        CHECK_FALSE(ch.closed());
    });
}

TEST_CASE("losing the connection fails every pending call at once, naming the peer", "[channel]") {
    sim::runtime rt;
    rt.run([&] {
        auto listener = sim::listen_on(sim::address::tcp("127.0.0.1", 0), {});
        std::unique_ptr<sim::stream> server_side;
        sim::spawn([&] {
            boost::system::error_code ec;
            server_side = listener->accept(ec);
        });
        auto ch = sim::open_connection(listener->local_address());
        std::vector<std::string> errors;
        for (int i = 0; i < 5; ++i) {
            sim::spawn([&] {
                try {
                    ch.send("never answered", sim::deadline(10s));
                } catch (const sim::connection_closed& e) {
                    errors.push_back(e.what());
                }
            });
        }
        REQUIRE(sim_test::eventually([&] { return server_side && ch.stats().requests_out == 5; }));
        auto start = std::chrono::steady_clock::now();
        server_side->close();
        REQUIRE(sim_test::eventually([&] { return errors.size() == 5; }));
        CHECK(std::chrono::steady_clock::now() - start < 1s);
        for (const auto& e : errors)
            CHECK_THAT(e, Catch::Contains(ch.peer()));
        CHECK(ch.closed());
        CHECK_THROWS_AS(ch.send("after"), sim::connection_closed);
        CHECK_THROWS_AS(ch.recv(), sim::connection_closed);
    });
}

TEST_CASE("close fails pending calls and flushes what is queued", "[channel]") {
    sim::runtime rt;
    rt.run([&] {
        std::vector<value> received;
        std::vector<sim::request> held;  // never answered while the test runs
        bool server_done = false;
        auto srv = sim::start_server("tcp://127.0.0.1:0", [&](sim::channel ch) {
            try {
                for (;;) {
                    auto req = ch.recv();
                    received.push_back(req.content());
                    held.push_back(std::move(req));
                }
            } catch (const sim::connection_closed&) {
                server_done = true;
            }
        });
        auto ch = sim::open_connection(srv.local_address());
        bool failed = false;
        sim::spawn([&] {
            try {
                ch.send("hold");
            } catch (const sim::connection_closed&) {
                failed = true;
            }
        });
        REQUIRE(sim_test::eventually([&] { return received.size() == 1; }));
        ch.close();
        CHECK(sim_test::eventually([&] { return failed; }));
        CHECK(sim_test::eventually([&] { return server_done; }));
        CHECK_THAT(ch.close_reason(), Catch::Contains("closed by this side"));
    });
}

TEST_CASE("a misbehaving peer loses its connection; the server serves the others", "[channel]") {
    struct bad_input {
        const char* name;
        std::string hex;
        const char* reason;
    };
    std::vector<bad_input> cases = {
        {"undecodable JSON", "000000035b302c", "bad frame: json decode"},
        {"invalid message type", "0000000a5b372c20302c20315d", "invalid message type 7"},
        {"not three elements", "000000065b302c20315d", "expected [type, id, content]"},
        {"empty frame", "00000000", "frame with an empty payload"},
        {"oversized frame", "7fffffff", "frame larger than the maximum"},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            sim::runtime rt;
            rt.run([&] {
                std::vector<std::string> reasons;
                auto srv = sim::start_server("tcp://127.0.0.1:0", [&](sim::channel ch) {
                    try {
                        for (;;) {
                            auto req = ch.recv();
                            req.reply(req.content());
                        }
                    } catch (const sim::connection_closed&) {
                        reasons.push_back(ch.close_reason());
                    }
                });
                auto good = sim::open_connection(srv.local_address());
                boost::system::error_code ec;
                auto bad = sim::connect_stream(srv.local_address(), {}, ec);
                sim_test::write_bytes(*bad, sim_test::from_hex(c.hex));
                REQUIRE(sim_test::eventually([&] { return reasons.size() == 1; }));
                CHECK_THAT(reasons[0], Catch::Contains(c.reason));
                // The bad peer was hung up on; the good one is still served.
                std::byte b[1];
                bad->read_some(b, ec);
                CHECK(ec);
                CHECK(good.send("still here") == value("still here"));
            });
        }
    }
}

TEST_CASE("an unanswered request is answered with a failure, as is an unencodable reply too",
          "[channel]") {
    sim::runtime rt;
    rt.run([&] {
        auto srv = sim::start_server("tcp://127.0.0.1:0", [](sim::channel ch) {
            for (;;) {
                auto req = ch.recv();
                if (req.content() == value("bytes")) {
                    req.reply(value(sim::bytes{std::byte{1}}));  // JSON cannot carry bytes
                } else if (req.content() == value("twice")) {
                    req.reply(1);
                    CHECK_THROWS_AS(req.reply(2), std::logic_error);
                } else if (req.content() == value("throw")) {
                    req.fail(std::invalid_argument("bad argument"));
                }  // otherwise dropped unanswered
            }
        });
        auto ch = sim::open_connection(srv.local_address());
        CHECK_THROWS_MATCHES(ch.send("drop"), sim::remote_error,
                             Catch::Predicate<sim::remote_error>([](const sim::remote_error& e) {
                                 return e.type() == "RuntimeError";
                             }));
        try {
            ch.send("bytes");
            FAIL();
        } catch (const sim::remote_error& e) {
            CHECK(e.type() == "SerializationError");
            CHECK_THAT(e.message(), Catch::Contains("json cannot encode bytes"));
        }
        CHECK(ch.send("twice") == value(1));
        try {
            ch.send("throw");
            FAIL();
        } catch (const sim::remote_error& e) {
            CHECK(e.traceback() == "ValueError: bad argument\n");
        }
    });
}

TEST_CASE("a request that cannot be encoded is an error at the caller, nothing is sent",
          "[channel]") {
    sim::runtime rt;
    rt.run([&] {
        auto srv = sim::start_server("tcp://127.0.0.1:0", echo_server);
        auto ch = sim::open_connection(srv.local_address());
        CHECK_THROWS_AS(ch.send(value(sim::bytes{std::byte{0}})), sim::serialization_error);
        CHECK(ch.send("fine") == value("fine"));
        CHECK(ch.stats().frames_out == 1);
    });
}

TEST_CASE("a slow reader slows the writer, queued bytes stay bounded", "[channel]") {
    sim::runtime rt;
    rt.run([&] {
        auto name = sim_test::unique_name("slow-reader");
        sim::transport_options small;
        small.local_capacity = 64 * 1024;
        auto listener = sim::listen_on(sim::address::local(name), small);
        std::unique_ptr<sim::stream> peer;  // accepts, never reads
        sim::spawn([&] {
            boost::system::error_code ec;
            peer = listener->accept(ec);
        });
        sim::channel_options o;
        o.transport = small;
        o.max_queued = 100 * 1024;
        auto ch = sim::open_connection(sim::address::local(name), o);
        value chunk(std::string(10 * 1024, 'x'));
        int timeouts = 0;
        for (int i = 0; i < 40; ++i) {
            sim::spawn([&] {
                try {
                    ch.send(chunk, sim::deadline(300ms));
                } catch (const sim::timeout_error&) {
                    ++timeouts;
                }
            });
        }
        REQUIRE(sim_test::eventually([&] { return timeouts == 40; }));
        // 64 KiB sit in the transport, at most max_queued (+ one frame) in the channel.
        CHECK(ch.stats().bytes_out <= 64 * 1024 + 20 * 1024);
    });
}

TEST_CASE("open_connection retries a refused connection until its timeout", "[channel]") {
    sim_test::temp_dir dir;
    sim::runtime rt;
    rt.run([&] {
        auto path = dir.file("later.sock");
        CHECK_THROWS_AS(sim::open_connection(sim::address::ipc(path)), sim::connection_error);
        std::optional<sim::server> srv;
        sim::spawn([&] {
            boost::this_fiber::sleep_for(150ms);
            srv = sim::start_server(sim::address::ipc(path), echo_server);
        });
        auto start = std::chrono::steady_clock::now();
        auto ch =
            sim::open_connection(sim::address::ipc(path), {}, {.timeout = 5s, .first_delay = 20ms});
        CHECK(std::chrono::steady_clock::now() - start >= 100ms);
        CHECK(ch.send(1) == value(1));
        // Giving up after the timeout.
        start = std::chrono::steady_clock::now();
        CHECK_THROWS_WITH(sim::open_connection(sim::address::ipc(dir.file("never.sock")), {},
                                               {.timeout = 100ms, .first_delay = 20ms}),
                          Catch::StartsWith("cannot connect to ipc://["));
        CHECK(std::chrono::steady_clock::now() - start >= 100ms);
    });
}

TEST_CASE("fault injection: a break at every byte of a request fails the call cleanly",
          "[channel][faults]") {
    sim::runtime rt;
    rt.run([&] {
        auto name = sim_test::unique_name("break");
        auto srv = sim::start_server(sim::address::local(name), echo_server);
        // The request [0, 0, "fault"] as JSON is a 19-byte frame; break after each byte count.
        for (std::uint64_t at = 0; at <= 19; ++at) {
            CAPTURE(at);
            auto faults = std::make_shared<sim::local_faults>();
            faults->close_to_server_at = at;
            sim::channel_options o;
            o.transport.faults = faults;
            auto ch = sim::open_connection(sim::address::local(name), o);
            // At 19 the whole request got through before the break, but its reply cannot return.
            CHECK_THROWS_AS(ch.send("fault", sim::deadline(5s)), sim::connection_closed);
        }
        // And on the way back: break the reply at every byte.
        for (std::uint64_t at = 0; at < 19; ++at) {
            auto faults = std::make_shared<sim::local_faults>();
            faults->close_to_client_at = at;
            sim::channel_options o;
            o.transport.faults = faults;
            auto ch = sim::open_connection(sim::address::local(name), o);
            CHECK_THROWS_AS(ch.send("fault", sim::deadline(5s)), sim::connection_closed);
        }
    });
}

TEST_CASE("fault injection: dropped replies time out, delayed ones arrive", "[channel][faults]") {
    sim::runtime rt;
    rt.run([&] {
        auto name = sim_test::unique_name("drop");
        auto srv = sim::start_server(sim::address::local(name), echo_server);
        auto faults = std::make_shared<sim::local_faults>();
        faults->on_frame = [](sim::direction d, std::uint64_t i, std::span<const std::byte>) {
            if (d == sim::direction::to_client && i % 2 == 0) return sim::fault_action::drop();
            if (d == sim::direction::to_client) return sim::fault_action::later(20ms);
            return sim::fault_action::deliver();
        };
        sim::channel_options o;
        o.transport.faults = faults;
        auto ch = sim::open_connection(sim::address::local(name), o);
        CHECK_THROWS_AS(ch.send(0, sim::deadline(100ms)), sim::timeout_error);
        auto start = std::chrono::steady_clock::now();
        CHECK(ch.send(1, sim::deadline(2s)) == value(1));
        CHECK(std::chrono::steady_clock::now() - start >= 20ms);
        CHECK(ch.stats().timeouts == 1);
    });
}

TEST_CASE("servers and channels close when their runtime stops", "[channel]") {
    sim::runtime server_rt({.name = "srv"});
    server_rt.start();
    auto srv = server_rt.invoke([] {
        return std::make_shared<sim::server>(sim::start_server("tcp://127.0.0.1:0", echo_server));
    });
    sim::runtime rt;
    rt.run([&] {
        auto ch = sim::open_connection(srv->local_address());
        CHECK(ch.send(1) == value(1));
        server_rt.stop();  // closes the listener and every channel of that runtime
        CHECK(sim_test::eventually([&] { return ch.closed(); }));
    });
    server_rt.join();
    CHECK(server_rt.fibers() == 0);
    srv.reset();
}

TEST_CASE("SIM_LOG specs set levels per component", "[log]") {
    sim::log::configure("channel=trace,warn");
    CHECK(sim::log::get("channel")->level() == spdlog::level::trace);
    CHECK(sim::log::get("transport")->level() == spdlog::level::warn);
    sim::log::configure("info");
    CHECK(sim::log::get("channel")->level() == spdlog::level::info);
    CHECK_THROWS_WITH(sim::log::configure("channel=loud"),
                      Catch::StartsWith("SIM_LOG: unknown level \"loud\""));
    sim::log::set_level("rpc", spdlog::level::debug);
    CHECK(sim::log::get("rpc")->level() == spdlog::level::debug);
    sim::log::set_level("", spdlog::level::info);
}

TEST_CASE(
    "held messages wait for release and arrive in their order, sends and pending calls are counted",
    "[channel]") {
    sim::runtime rt;
    rt.run([&] {
        std::vector<value> seen;
        sim::channel_options holding;
        holding.hold_incoming = true;
        auto srv = sim::start_server(
            "tcp://127.0.0.1:0",
            [&](sim::channel accepted) {
                auto ch = std::make_shared<sim::channel>(std::move(accepted));
                sim::spawn([&, ch] {
                    // Wait until all three are held, then deliver them at once.
                    REQUIRE(sim_test::eventually([&] { return ch->held() == 3; }));
                    CHECK(seen.empty());
                    CHECK(ch->held_message(2).content == value(2));
                    CHECK(ch->release_held(1) == 1);
                    CHECK(ch->release_held() == 2);
                    CHECK(ch->held() == 0);
                    ch->hold_incoming(false);
                });
                for (;;) {
                    sim::request req = ch->recv();
                    seen.push_back(req.content());
                    req.reply(req.content());
                }
            },
            holding);
        auto ch = sim::open_connection(srv.local_address());
        int replies = 0;
        for (int i = 0; i < 3; ++i) {
            sim::spawn([&, i] {
                CHECK(ch.send(value(i)) == value(i));
                ++replies;
            });
        }
        REQUIRE(sim_test::eventually([&] { return ch.pending_calls() == 3; }));
        REQUIRE(sim_test::eventually([&] { return replies == 3; }));
        CHECK(ch.pending_calls() == 0);
        CHECK(ch.stats().messages_sent == 3);
        CHECK(seen == std::vector<value>{0, 1, 2});
    });
}

TEST_CASE("on_activity is told of every received message", "[channel]") {
    sim::runtime rt;
    rt.run([&] {
        auto srv = sim::start_server("tcp://127.0.0.1:0", echo_server);
        int received = 0;
        auto ch = sim::open_connection(srv.local_address());
        ch.on_activity([&] { ++received; });
        for (int i = 0; i < 5; ++i)
            ch.send(value(i));
        CHECK(received == 5);
        CHECK(ch.stats().messages_received == 5);
    });
}

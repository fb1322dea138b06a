#include <catch2/catch.hpp>

#include <boost/fiber/operations.hpp>

#include <sim/rpc/connection.hpp>
#include <sim/rpc/request.hpp>
#include <sim/runtime/future.hpp>
#include <sim/runtime/sleep.hpp>
#include <sim/runtime/use_fiber.hpp>
#include <sim/runtime/wait_queue.hpp>

#include "rpc/vector_services.hpp"
#include "support/net.hpp"

using namespace std::chrono_literals;
using sim::array;
using sim::map;
using sim::value;
using sim::rpc::arg;
using sim::rpc::kw;

namespace {

std::string remote_message(const std::function<void()>& call) {
    try {
        call();
    } catch (const sim::remote_error& e) {
        return e.type() + ": " + e.message();
    }
    return "(no error)";
}

struct calc {
    int offset = 10;
    int add(int a, int b) const { return a + b + offset; }
    void set(int o) { offset = o; }
};

}  // namespace

TEST_CASE("exposed functions convert their arguments and results", "[rpc]") {
    sim::runtime rt;
    rt.run([&] {
        calc c;
        sim::rpc::router root;
        root.expose("add", &calc::add, &c, arg("a"), arg("b"));
        root.expose("set", &calc::set, &c);
        root.expose(
            "scale",
            [](std::vector<double> xs, double k) {
                for (auto& x : xs)
                    x *= k;
                return xs;
            },
            arg("xs"), arg("k") = 2.0);
        root.expose("nothing", [] {});
        root.expose(
            "pair",
            [](std::string s, std::optional<int> n) { return std::make_tuple(s, n.value_or(-1)); },
            arg("s"), arg("n") = nullptr);
        auto srv = sim::rpc::start_server("tcp://127.0.0.1:0", root);
        auto conn = sim::rpc::open_connection(srv.local_address());
        auto remote = conn.remote();

        CHECK(remote.call<int>("add", 1, 2) == 13);
        CHECK(remote.call<int>("add", 1, kw("b", 5)) == 16);
        CHECK(remote.call<int>("add", kw("b", 5), kw("a", 1)) == 16);
        remote.call<void>("set", 0);
        CHECK(remote["add"].invoke<int>(1, 2) == 3);
        CHECK(remote["add"](1, 2) == value(3));
        CHECK(remote.call<std::vector<double>>("scale", std::vector<double>{1, 2}) ==
              std::vector<double>{2, 4});
        CHECK(remote.call<std::vector<double>>("scale", std::vector<double>{1}, kw("k", 3)) ==
              std::vector<double>{3});
        CHECK(remote.call("nothing").is_nil());
        CHECK(remote.call("pair", "x") == value(array{"x", -1}));
        CHECK(remote.call("pair", "x", 4) == value(array{"x", 4}));
        // A result that does not convert to what the caller asked for.
        CHECK_THROWS_AS(remote.call<std::string>("add", 1, 2), sim::serialization_error);
    });
}

TEST_CASE("argument errors are TypeErrors worded as Python words them", "[rpc]") {
    sim::runtime rt;
    rt.run([&] {
        sim::rpc::router root;
        root.expose(
            "add", [](int a, int b, int scale) { return (a + b) * scale; }, arg("a"), arg("b"),
            arg("scale") = 1);
        root.expose("positional", [](int a) { return a; });
        auto srv = sim::rpc::start_server("tcp://127.0.0.1:0", root);
        auto remote = sim::rpc::open_connection(srv.local_address()).remote();
        CHECK(remote_message([&] { remote.call("add", 1); }) ==
              "TypeError: add() missing 1 required positional argument: 'b'");
        CHECK(remote_message([&] { remote.call("add"); }) ==
              "TypeError: add() missing 2 required positional arguments: 'a' and 'b'");
        CHECK(remote_message([&] { remote.call("add", 1, 2, 3, 4); }) ==
              "TypeError: add() takes 3 positional arguments but 4 were given");
        CHECK(remote_message([&] { remote.call("add", 1, 2, kw("c", 1)); }) ==
              "TypeError: add() got an unexpected keyword argument 'c'");
        CHECK(remote_message([&] { remote.call("add", 1, 2, kw("a", 1)); }) ==
              "TypeError: add() got multiple values for argument 'a'");
        CHECK(remote_message([&] { remote.call("add", "x", 2); }) ==
              "TypeError: add() argument 'a': expected int, got string \"x\"");
        CHECK(remote_message([&] { remote.call("positional", kw("a", 1)); }) ==
              "TypeError: positional() takes no keyword arguments");
        CHECK(remote_message([&] { remote.call("positional", 1.5); }) ==
              "TypeError: positional() argument 1: expected int, got float 1.5");
    });
}

TEST_CASE("paths resolve through nested routers with aiomas' lookup errors", "[rpc]") {
    sim::runtime rt;
    rt.run([&] {
        sim_test::vector_service service;
        auto srv = sim::rpc::start_server("tcp://127.0.0.1:0", service.router);
        auto remote = sim::rpc::open_connection(srv.local_address()).remote();
        CHECK(remote["calc"]["math"].call<int>("add", 1, 2, kw("scale", 3)) == 9);
        CHECK(remote.call<int>("calc/math/add", 1, 2) == 3);
        CHECK(remote_message([&] { remote.call("nope"); }) ==
              "LookupError: Name \"nope\" not found in \"\"");
        CHECK(remote_message([&] { remote.call("calc/math/nope"); }) ==
              "LookupError: Name \"nope\" not found in \"calc/math\"");
        CHECK(remote_message([&] { remote.call("calc/version/x"); }) ==
              "LookupError: Name \"x\" not found in \"calc/version\"");
        CHECK(remote_message([&] { remote.call("calc/"); }) ==
              "LookupError: Name \"\" not found in \"calc\"");
        CHECK(remote_message([&] { remote.call("calc"); }) ==
              "TypeError: \"calc\" is a service, not a function");
        CHECK(remote_message([&] { remote["calc"]["math"].call("div", 1, 0); }) ==
              "ZeroDivisionError: division by zero");
        CHECK_THROWS_AS(remote(), std::invalid_argument);  // the root is no function
        CHECK(service.calc.math.router.path() == "calc/math");
        CHECK(remote["calc"]["math"].path() == "calc/math");
        CHECK_THAT(remote["calc"].to_string(),
                   Catch::Matches("Proxy\\('127\\.0\\.0\\.1:[0-9]+', 'calc'\\)"));
    });
}

TEST_CASE("routers are trees that can change", "[rpc]") {
    sim::rpc::router root, a, b;
    root.add("a", a);
    CHECK_THROWS_AS(root.add("b", a), std::invalid_argument);     // one parent only
    CHECK_THROWS_AS(root.add("a", b), std::invalid_argument);     // name taken
    CHECK_THROWS_AS(a.add("root", root), std::invalid_argument);  // a cycle
    CHECK_THROWS_AS(root.expose("x/y", [] {}), std::invalid_argument);
    a.add("b", b);
    CHECK(b.path() == "a/b");
    CHECK(&b.root() == &root);
    CHECK(root.remove("a"));
    CHECK(a.parent() == nullptr);
    CHECK(b.path() == "b");
    {
        sim::rpc::router temporary;
        root.add("t", temporary);
        CHECK(root.contains("t"));
    }
    CHECK_FALSE(root.contains("t"));  // a router leaves its parent when destroyed
}

TEST_CASE("malformed requests get an answer, and a failing handler harms nothing", "[rpc]") {
    sim::runtime rt;
    rt.run([&] {
        sim::rpc::router root;
        root.expose("boom", []() -> int { throw std::runtime_error("handler failed"); });
        root.expose("ok", [] { return 1; });
        auto srv = sim::rpc::start_server("tcp://127.0.0.1:0", root);
        auto ch = sim::open_connection(srv.local_address());
        for (const value& bad :
             {value("just a string"), value(array{"ok"}), value(array{1, array{}, map{}}),
              value(array{"ok", "args", map{}}), value(array{"ok", array{}, array{}})}) {
            CAPTURE(to_display_string(bad));
            try {
                ch.send(bad);
                FAIL("expected an exception reply");
            } catch (const sim::remote_error& e) {
                CHECK(e.type() == "TypeError");
            }
        }
        auto remote = sim::rpc::open_connection(srv.local_address()).remote();
        for (int i = 0; i < 3; ++i) {
            CHECK(remote_message([&] { remote.call("boom"); }) == "RuntimeError: handler failed");
        }
        CHECK(remote.call<int>("ok") == 1);
    });
}

TEST_CASE("1,000 concurrent calls whose replies come back out of order", "[rpc]") {
    // The server holds every call until all 1,000 are in, then the test releases them last
    // first, one at a time, each after the previous reply has reached its caller: the order of
    // the replies is the test's, not that of sleeps racing on a loaded machine.
    sim::runtime rt;
    rt.run([&] {
        sim::rpc::router root;
        std::vector<sim::detail::fiber_waiter*> held(1000, nullptr);
        std::size_t arrived = 0;
        root.expose("later", [&](int i) {
            sim::detail::fiber_waiter gate;
            held.at(static_cast<std::size_t>(i)) = &gate;
            ++arrived;
            gate.wait();
            return i;
        });
        auto srv = sim::rpc::start_server("tcp://127.0.0.1:0", root, {}, {.codec = "msgpack"});
        auto remote =
            sim::rpc::open_connection(srv.local_address(), nullptr, {.codec = "msgpack"}).remote();
        std::vector<int> finished;
        int correct = 0;
        for (int i = 0; i < 1000; ++i) {
            sim::spawn([&, i] {
                if (remote.call<int>("later", i) == i) ++correct;
                finished.push_back(i);
            });
        }
        REQUIRE(sim_test::eventually([&] { return arrived == 1000; }, 30s));
        CHECK(finished.empty());
        for (int i = 999; i >= 0; --i) {
            held[static_cast<std::size_t>(i)]->wake();
            const std::size_t want = static_cast<std::size_t>(1000 - i);
            REQUIRE(sim_test::eventually([&] { return finished.size() == want; }, 30s));
        }
        CHECK(correct == 1000);
        std::vector<int> last_first(1000);
        for (int i = 0; i < 1000; ++i)
            last_first[static_cast<std::size_t>(i)] = 999 - i;
        CHECK(finished == last_first);
    });
}

TEST_CASE("async calls: 1,000 in flight on one connection, replies out of order, results in order",
          "[rpc][future]") {
    // The server holds every call until all are in, then answers them last first.
    sim::runtime rt;
    rt.run([&] {
        sim::rpc::router root;
        sim::wait_queue changed;
        std::size_t arrived = 0;
        int released_below = 1000;  // calls i >= this may answer
        root.expose("later", [&](int i) {
            ++arrived;
            changed.notify_all();
            changed.wait([&] { return i >= released_below; });
            return i * 2;
        });
        auto srv = sim::rpc::start_server("tcp://127.0.0.1:0", root, {}, {.codec = "msgpack"});
        auto remote =
            sim::rpc::open_connection(srv.local_address(), nullptr, {.codec = "msgpack"}).remote();
        std::vector<sim::future<int>> replies;
        for (int i = 0; i < 1000; ++i)
            replies.push_back(remote.async_call<int>("later", i));
        REQUIRE(changed.wait_for(30s, [&] { return arrived == 1000; }));
        CHECK(replies.back().wait_for(0s) == sim::future_status::timeout);
        for (int i = 999; i >= 0; --i) {
            released_below = i;
            changed.notify_all();
            REQUIRE(replies[static_cast<std::size_t>(i)].wait_for(30s) ==
                    sim::future_status::ready);
            if (i > 0)
                CHECK(replies[static_cast<std::size_t>(i - 1)].wait_for(0s) ==
                      sim::future_status::timeout);
        }
        std::vector<int> want(1000);
        for (int i = 0; i < 1000; ++i)
            want[static_cast<std::size_t>(i)] = i * 2;
        CHECK(sim::when_all(std::move(replies)) == want);
    });
}

TEST_CASE("an async call brings the remote error, the timeout or the lost connection to get()",
          "[rpc][future]") {
    sim::runtime rt;
    rt.run([&] {
        sim::rpc::router root;
        sim::wait_queue changed;
        int slow_started = 0;
        root.expose("fail", [] { throw sim::rpc::fault("ValueError", "not today"); });
        root.expose("slow", [&] {
            ++slow_started;
            changed.notify_all();
            sim::sleep_for(std::chrono::hours(1));  // called off when the runtime stops
        });
        root.expose("echo", [](std::string s) { return s; });
        sim::rpc::connection accepted;
        auto srv = sim::rpc::start_server("tcp://127.0.0.1:0", root,
                                          [&](sim::rpc::connection c) { accepted = c; });
        auto remote = sim::rpc::open_connection(srv.local_address()).remote();

        auto fails = remote.async_call("fail");
        auto late = remote.async_call("slow", sim::deadline(20ms));
        auto echoed = remote.async_call<std::string>("echo", "hi");
        auto [a] = sim::when_all(std::move(echoed));
        CHECK(a == "hi");
        CHECK(remote_message([&] { fails.get(); }) == "ValueError: not today");
        CHECK_THROWS_AS(late.get(), sim::timeout_error);

        auto cut = remote["slow"].async_invoke();
        REQUIRE(changed.wait_for(10s, [&] { return slow_started == 2; }));
        accepted.abort();  // the server side drops the connection with the call in flight
        CHECK_THROWS_AS(cut.get(), sim::connection_closed);
    });
}

TEST_CASE("both sides serve and call over one connection", "[rpc]") {
    sim::runtime rt;
    rt.run([&] {
        sim::rpc::router server_side;
        std::vector<sim::rpc::connection> clients;
        server_side.expose("hello", [](std::string who) { return "hello " + who; });
        auto srv = sim::rpc::start_server("tcp://127.0.0.1:0", server_side,
                                          [&](sim::rpc::connection c) { clients.push_back(c); });
        sim::rpc::router client_side;
        int pings = 0;
        client_side.expose("ping", [&] { return ++pings; });
        auto conn = sim::rpc::open_connection(srv.local_address(), &client_side);
        CHECK(conn.remote().call<std::string>("hello", "client") == "hello client");
        REQUIRE(clients.size() == 1);
        // The server calls the client back on the connection the client opened.
        CHECK(clients[0].remote().call<int>("ping") == 1);
        CHECK(clients[0].remote().call<int>("ping") == 2);
        // A side that serves nothing says so.
        auto plain = sim::rpc::open_connection(srv.local_address());
        REQUIRE(sim_test::eventually([&] { return clients.size() == 2; }));
        CHECK(remote_message([&] { clients[1].remote().call("anything"); }) ==
              "LookupError: this side of the connection serves nothing");
    });
}

TEST_CASE("services travel as references and come back as proxies", "[rpc]") {
    sim::runtime rt;
    rt.run([&] {
        sim::rpc::router server_side;
        server_side.expose("call_back", [](sim::rpc::proxy service, int x) {
            return service.call<int>("mul2", x);
        });
        server_side.expose("keep", [](sim::rpc::proxy service) { return service; });
        auto srv = sim::rpc::start_server("tcp://127.0.0.1:0", server_side);

        sim_test::client_service mine;
        sim::rpc::router stranger;  // not in the tree the connection serves
        stranger.expose("x", [] { return 0; });
        auto conn = sim::rpc::open_connection(srv.local_address(), &mine.router);
        auto remote = conn.remote();
        CHECK(remote.call<int>("call_back", sim::rpc::ref(mine.router), 21) == 42);
        // A proxy cannot travel back to the side it points to: aiomas' wire form has no way to say
        // "your own service", so the reply is a SerializationError, as with aiomas.
        CHECK(
            remote_message([&] { remote.call("keep", sim::rpc::ref(mine.sub)); })
                .starts_with(
                    "SerializationError: Could not serialize object of type \"sim::rpc::proxy\""));
        CHECK_THROWS_WITH(remote.call("call_back", sim::rpc::ref(stranger), 1),
                          Catch::Contains("is not served on this connection"));
        // A reference made by hand that names nothing fails to encode; it used to be followed.
        CHECK_THROWS_WITH(
            remote.call("call_back", sim::value(sim::object(sim::rpc::service_ref{})), 1),
            Catch::Contains("a service reference that names no service"));
        // A client that serves nothing cannot pass services.
        auto bare = sim::rpc::open_connection(srv.local_address());
        CHECK_THROWS_AS(bare.remote().call("call_back", sim::rpc::ref(mine.router), 1),
                        sim::serialization_error);
    });
}

TEST_CASE("a connection we opened closes with its last handle, and tells on_close", "[rpc]") {
    sim::runtime rt;
    rt.run([&] {
        sim::rpc::router root;
        root.expose("x", [] { return 1; });
        std::vector<std::string> server_saw;
        auto srv = sim::rpc::start_server("tcp://127.0.0.1:0", root, [&](sim::rpc::connection c) {
            c.on_close([&](const std::string& reason) { server_saw.push_back(reason); });
        });
        {
            auto remote =
                sim::rpc::open_connection(srv.local_address()).remote();  // the handle goes at once
            CHECK(remote.call<int>("x") == 1);  // the proxy keeps the connection
        }
        REQUIRE(sim_test::eventually([&] { return server_saw.size() == 1; }));
        CHECK_THAT(server_saw[0], Catch::Contains("closed by the peer"));
    });
}

TEST_CASE("deadlines per call", "[rpc]") {
    sim::runtime rt;
    rt.run([&] {
        sim::rpc::router root;
        root.expose("sleep", [](double s) {
            boost::this_fiber::sleep_for(std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::duration<double>(s)));
            return s;
        });
        auto srv = sim::rpc::start_server("tcp://127.0.0.1:0", root);
        auto remote = sim::rpc::open_connection(srv.local_address()).remote();
        CHECK_THROWS_AS(remote.call("sleep", 0.5, sim::deadline(20ms)), sim::timeout_error);
        CHECK(remote.call<double>("sleep", 0.001, sim::deadline(2s)) == 0.001);
    });
}

TEST_CASE("a local connection keeps the semantics of a remote call without a socket",
          "[rpc][local]") {
    sim::runtime rt;
    rt.run([&] {
        sim::rpc::router root;
        sim::rpc::router sub;
        std::vector<int> seen;
        sub.expose("mul2", [](int x) { return 2 * x; });
        root.add("sub", sub);
        root.expose("append", [&](std::vector<int> xs) {
            xs.push_back(99);  // the caller's vector is a copy: it does not change
            seen = xs;
            return xs.size();
        });
        root.expose("boom", []() -> int { throw std::invalid_argument("bad thing"); });
        root.expose("call_back",
                    [](sim::rpc::proxy service, int x) { return service.call<int>("mul2", x); });
        root.expose("slow", [] { boost::this_fiber::sleep_for(200ms); });

        auto conn = sim::rpc::connect_local(root, "local-container");
        CHECK(conn.is_local());
        CHECK(conn.peer() == "local-container");
        auto remote = conn.remote();
        std::vector<int> mine{1, 2};
        CHECK(remote.call<std::size_t>("append", mine) == 3);
        CHECK(mine == std::vector<int>{1, 2});
        CHECK(seen == std::vector<int>{1, 2, 99});
        CHECK(remote.call<int>("sub/mul2", 4) == 8);
        // The callee runs in a fiber of its own, not the caller's.
        auto caller = boost::this_fiber::get_id();
        sim::rpc::router probe;
        boost::fibers::fiber::id callee;
        probe.expose("id", [&] { callee = boost::this_fiber::get_id(); });
        sim::rpc::connect_local(probe, "probe").remote().call("id");
        CHECK(callee != caller);
        // Errors arrive as a remote peer would send them.
        CHECK(remote_message([&] { remote.call("boom"); }) == "ValueError: bad thing");
        CHECK(remote_message([&] { remote.call("nope"); }).starts_with("LookupError"));
        CHECK(remote_message([&] { remote.call("sub/mul2", "x"); }).starts_with("TypeError"));
        try {
            remote.call("boom");
        } catch (const sim::remote_error& e) {
            CHECK(e.origin() == "local-container");
        }
        // Service references arrive as proxies.
        CHECK(remote.call<int>("call_back", sim::rpc::ref(sub), 21) == 42);
        CHECK_THROWS_AS(remote.call("slow", sim::deadline(10ms)), sim::timeout_error);
        conn.close();
        CHECK(conn.closed());
        CHECK_THROWS_AS(remote.call<int>("sub/mul2", 1), sim::connection_closed);
    });
}

TEST_CASE("a request is [path, args, kwargs]: one encoder, one decoder that names what is wrong",
          "[rpc][request]") {
    using sim::value;
    const value good = sim::rpc::make_request("calc/add", sim::array{value(1), value(2)},
                                              sim::map{{value("z"), value(3)}});
    CHECK(good == value(sim::array{value("calc/add"), value(sim::array{value(1), value(2)}),
                                   value(sim::map{{value("z"), value(3)}})}));
    auto parts = sim::rpc::as_request(good);
    REQUIRE(parts);
    CHECK(parts->path == "calc/add");
    CHECK(parts->args.size() == 2);
    CHECK(parts->kwargs.size() == 1);
    CHECK(sim::rpc::make_request("f") ==
          value(sim::array{value("f"), value(sim::array{}), value(sim::map{})}));

    // Every shape that is not a request: not an array, too short, too long, a path that is not
    // a string, args that are not an array, kwargs that are not a map.
    const value bad[] = {
        value(),
        value("calc/add"),
        value(sim::map{}),
        value(sim::array{}),
        value(sim::array{value("f"), value(sim::array{})}),
        value(sim::array{value("f"), value(sim::array{}), value(sim::map{}), value(1)}),
        value(sim::array{value(7), value(sim::array{}), value(sim::map{})}),
        value(sim::array{value(), value(sim::array{}), value(sim::map{})}),
        value(sim::array{value("f"), value(sim::map{}), value(sim::map{})}),
        value(sim::array{value("f"), value(), value(sim::map{})}),
        value(sim::array{value("f"), value(sim::array{}), value(sim::array{})}),
        value(sim::array{value("f"), value(sim::array{}), value("kw")}),
    };
    for (const value& v : bad) {
        INFO(sim::to_display_string(v));
        CHECK_FALSE(sim::rpc::as_request(v));
        CHECK_THROWS_WITH((void)sim::rpc::parse_request(v),
                          "a request is [path, args, kwargs] (a string, an array, a map), not " +
                              sim::to_display_string(v));
        value copy = v;
        CHECK_THROWS_AS((void)sim::rpc::parse_request(copy), sim::type_error);
    }
    // The mutable view refers into the content: a handler may take its arguments.
    value content = good;
    sim::rpc::request_ref r = sim::rpc::parse_request(content);
    r.args[0] = value(10);
    CHECK(content.as_array()[1].as_array()[0] == value(10));
}

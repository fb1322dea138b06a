#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <boost/fiber/operations.hpp>

#include <sim/agent/container.hpp>
#include <sim/agent/manager.hpp>
#include <sim/agent/registry.hpp>
#include <sim/core/error.hpp>
#include <sim/rpc/connection.hpp>
#include <sim/runtime/future.hpp>

#include "agent/test_agents.hpp"
#include "support/child.hpp"
#include "support/net.hpp"
#include "support/test_support.hpp"

using namespace std::chrono_literals;
using sim::array;
using sim::value;

using sim_test::remote_message;

namespace {

using sim_test::counter;
using sim_test::ticker;

}  // namespace

TEST_CASE("agents get ids and addresses, and validate_aid names their type", "[agent]") {
    sim::runtime rt;
    rt.run([&] {
        sim::container c("tcp://127.0.0.1:0");
        REQUIRE(c.base_url().starts_with("tcp://127.0.0.1:"));
        CHECK(c.base_url().ends_with("/"));
        CHECK(c.base_url().find(":0/") == std::string::npos);  // the real port, not 0
        auto& a = c.spawn<counter>();
        auto& b = c.spawn<counter>(5);
        CHECK(a.id() == "0");
        CHECK(b.id() == "1");
        CHECK(b.address() == c.base_url() + "1");
        CHECK(a.type_name() == "counter");
        CHECK(c.size() == 2);
        CHECK(c.find("1") == &b);
        CHECK(c.find("2") == nullptr);
        CHECK(c.find("01") == nullptr);

        auto conn = sim::rpc::open_connection(c.local_address());
        CHECK(conn.remote().call("validate_aid", "1") == value("counter"));
        CHECK(conn.remote().call("validate_aid", "7").is_nil());
        CHECK(conn.remote().call<int>("agents/1/add", 2) == 7);
        CHECK(conn.remote()["agents"]["0"].call<int>("add") == 1);
    });
}

TEST_CASE("containers call each other's agents, reusing one connection per peer", "[agent]") {
    sim::runtime rt;
    rt.run([&] {
        sim::container one("tcp://127.0.0.1:0");
        sim::container two("tcp://127.0.0.1:0");
        auto& target = two.spawn<counter>();
        auto& other = two.spawn<counter>(100);
        auto p = one.connect(target.address());
        CHECK(p.path() == "agents/0");
        CHECK(p.call<int>("add", 3) == 3);
        auto q = one.connect(other.address());
        CHECK(q.call<int>("add", sim::kw("k", 2)) == 102);
        CHECK(p.connection() == q.connection());  // one connection to the peer container

        // Concurrent connects share one attempt.
        std::vector<sim::rpc::proxy> got;
        sim::container three("tcp://127.0.0.1:0");
        for (int i = 0; i < 5; ++i)
            sim::spawn([&] { got.push_back(three.connect(target.address())); });
        REQUIRE(sim_test::eventually([&] { return got.size() == 5; }));
        for (auto& g : got)
            CHECK(g.connection() == got[0].connection());

        CHECK_THROWS_AS(one.connect(two.base_url() + "9"), sim::lookup_error);
        CHECK_THROWS_WITH(one.connect(two.base_url() + "9"),
                          Catch::Contains("Agent \"9\" does not exist"));
        CHECK_THROWS_AS(one.connect(two.base_url()), std::invalid_argument);
        sim_test::temp_dir dir;
        CHECK_THROWS_AS(one.connect("ipc://[" + dir.file("nobody") + "]/0"), sim::connection_error);
    });
}

TEST_CASE("agents pass themselves as references that arrive as proxies", "[agent]") {
    sim::runtime rt;
    rt.run([&] {
        sim::container server("tcp://127.0.0.1:0",
                              sim_test::vector_container_options("json", false));
        sim::container client("tcp://127.0.0.1:0",
                              sim_test::vector_container_options("json", false));
        auto& callee = server.spawn<sim_test::callee>();
        auto& caller = client.spawn<sim_test::caller>();
        auto p = caller.connect(callee.address());
        // The callee calls back the caller's `double` through the proxy it was given.
        CHECK(p.call<int>("call_peer", caller.ref(), 21) == 42);
        CHECK(p.call<std::string>("spam", 3) == "spamspamspam");
        auto shifted = p.call<sim::utc_time>("date_shift",
                                             sim::utc_time::parse("2016-01-01T12:30:00+00:00"), 90);
        CHECK(shifted.to_string() == "2016-01-01T12:31:30+00:00");
        CHECK(remote_message([&] { p.call("fail", "agent boom"); }) == "ValueError: agent boom");
    });
}

TEST_CASE("the same-container shortcut keeps the semantics of a remote call", "[agent][local]") {
    sim::runtime rt;
    rt.run([&] {
        sim::container c("tcp://127.0.0.1:0", sim_test::vector_container_options("json", false));
        auto& callee = c.spawn<sim_test::callee>();
        auto& caller = c.spawn<sim_test::caller>();
        auto p = caller.connect(callee.address());
        CHECK(p.connection() != nullptr);
        CHECK(p.call<int>("call_peer", caller.ref(), 21) == 42);
        CHECK(p.call<std::string>("spam", 2) == "spamspam");
        try {
            p.call("fail", "local boom");
            FAIL("no error");
        } catch (const sim::remote_error& e) {
            CHECK(e.type() == "ValueError");
            CHECK(e.message() == "local boom");
            CHECK(e.origin() == c.name());
        }
        CHECK_THROWS_AS(c.connect(c.base_url() + "7"), sim::lookup_error);
        // A hand-made reference to nothing fails as it would over a socket (it was followed).
        CHECK_THROWS_WITH(p.call("call_peer", sim::value(sim::object(sim::rpc::service_ref{})), 1),
                          Catch::Contains("a service reference that names no service"));
        // No socket was opened to ourselves.
        sim::rpc::router probe;
        CHECK(c.counts().sent == 0);
    });
}

TEST_CASE("a removed agent answers no more, and its fibers and timers end", "[agent]") {
    sim::runtime rt;
    rt.run([&] {
        sim::container c("tcp://127.0.0.1:0", {.clock = sim::virtual_time{}});
        auto& t = c.spawn<ticker>();
        auto& keep = c.spawn<ticker>();
        bool timer_ran = false;
        t.clock().call_in(5, [&] { timer_ran = true; });
        c.step(0);
        c.step(1);
        CHECK(t.ticks == 1);
        auto conn = sim::rpc::open_connection(c.local_address());
        CHECK(conn.remote().call("validate_aid", "0") == value("ticker"));

        c.remove("0");
        CHECK(c.find("0") == nullptr);
        CHECK(c.size() == 1);
        CHECK(conn.remote().call("validate_aid", "0").is_nil());
        CHECK(
            remote_message([&] { conn.remote().call("agents/0/get"); }).starts_with("LookupError"));
        CHECK_FALSE(c.remove("0"));
        // Only the other ticker still waits; the removed one's timer went with it.
        CHECK(c.virtual_clock().waiting() == 1);
        for (double time = 2; time <= 6; ++time)
            c.step(time);
        CHECK_FALSE(timer_ran);
        CHECK(keep.ticks == 6);
        // Ids are never reused.
        CHECK(c.spawn<counter>().id() == "2");
    });
}

TEST_CASE("an agent removed while one of its calls runs is destroyed after the call", "[agent]") {
    struct slow : sim::agent {
        slow(sim::container& c, bool& started, bool& destroyed) : agent(c), destroyed_(destroyed) {
            expose("wait", [this, &started] {
                started = true;
                clock().sleep_for(0.05);  // real time
                return id();
            });
        }
        ~slow() override { destroyed_ = true; }
        bool& destroyed_;
    };
    sim::runtime rt;
    rt.run([&] {
        sim::container c("tcp://127.0.0.1:0");
        bool started = false, destroyed = false;
        c.spawn<slow>(started, destroyed);
        auto conn = sim::rpc::open_connection(c.local_address());
        std::string answer;
        sim::spawn([&] {
            try {
                conn.remote().call("agents/0/wait");
            } catch (const sim::remote_error& e) {
                answer = e.message();
            }
        });
        REQUIRE(sim_test::eventually([&] { return started; }));
        c.remove("0");
        CHECK_FALSE(destroyed);  // its call still runs: the sleep ends with `cancelled`
        REQUIRE(sim_test::eventually([&] { return destroyed; }));
        REQUIRE(sim_test::eventually([&] { return !answer.empty(); }));
        CHECK_THAT(answer, Catch::Contains("removed"));
    });
}

TEST_CASE("each agent's random numbers depend on the seed and its name only", "[agent]") {
    auto draw = [](std::uint64_t seed, const std::string& address) {
        sim::runtime rt;
        return rt.run([&] {
            sim::container_options o;
            o.name = "box";
            o.seed = seed;
            sim::container c(address, o);
            std::vector<std::uint64_t> out;
            for (int i = 0; i < 3; ++i) {
                auto& a = c.spawn<counter>();
                out.push_back(a.rng()());
                out.push_back(a.rng().below(1000));
            }
            return out;
        });
    };
    auto tcp = draw(7, "tcp://127.0.0.1:0");
    CHECK(tcp == draw(7, "local://" + sim_test::unique_name("rng")));
    CHECK(tcp != draw(8, "tcp://127.0.0.1:0"));
    CHECK(tcp[0] != tcp[2]);  // agents differ from each other
    sim::rng r(1, "x");
    for (int i = 0; i < 1000; ++i) {
        double u = r.uniform();
        CHECK((u >= 0 && u < 1));
        auto k = r.between(-3, 3);
        CHECK((k >= -3 && k <= 3));
    }
}

TEST_CASE("a container made outside a runtime runs on the calling thread", "[agent]") {
    std::thread t([] {
        sim::container c("local://" + sim_test::unique_name("plain"),
                         {.clock = sim::virtual_time{}});
        auto& a = c.spawn<ticker>();
        CHECK(sim::runtime::current() == &c.runtime());
        CHECK(c.step(0) == std::optional<double>(1));
        CHECK(c.step(3) == std::optional<double>(4));
        CHECK(a.ticks == 1);  // it overslept: one wake-up at 3 for the sleep until 1
        CHECK(c.run_until([&] { return a.ticks; }) == 1);
        sim::container peer("local://" + sim_test::unique_name("peer"));
        auto& n = peer.spawn<counter>();
        CHECK(c.connect(n.address()).call<int>("add", 4) == 4);
    });
    t.join();
    CHECK(sim::runtime::current() == nullptr);
}

TEST_CASE("run serves until a manager's stop, and the manager spawns registered types", "[agent]") {
    sim::runtime rt;
    rt.run([&] {
        sim::agent_registry types;
        types.add<counter, int>("counter", sim::arg("start") = 0);
        sim::container c("tcp://127.0.0.1:0", {.clock = sim::virtual_time{}});
        c.spawn<sim::manager>(types);
        bool ran = false;
        sim::spawn([&] {
            c.run();
            ran = true;
        });
        // A client with the container's serializer table: dates first, then references.
        sim::channel_options o;
        o.codec_settings.serializers.add(sim::utc_time::date_serializer());
        auto conn = sim::rpc::open_connection(c.local_address(), nullptr, o);
        auto made = conn.remote().call("agents/0/spawn", "counter", 41);
        REQUIRE(made.as_array().size() == 2);
        CHECK(made[1] == value(c.base_url() + "1"));
        auto proxy = made[0].as<sim::rpc::proxy>();
        CHECK(proxy.call<int>("add") == 42);
        CHECK(conn.remote().call("agents/0/spawn", "counter", sim::kw("start", 7))[1] ==
              value(c.base_url() + "2"));
        CHECK(remote_message([&] { conn.remote().call("agents/0/spawn", "nope"); }) ==
              "LookupError: no agent type \"nope\" (known: counter)");
        CHECK(remote_message([&] {
                  conn.remote().call("agents/0/spawn", "counter", "x");
              }).starts_with("TypeError"));
        CHECK(conn.remote().call("agents/0/set_time", 30).is_nil());
        CHECK(remote_message([&] { conn.remote().call("agents/0/set_time", 10); }) ==
              "ValueError: Time must be > 30 but is 10");
        CHECK_FALSE(ran);
        // The stop ends this runtime too (as it ends a serving process), closing its
        // connections: the caller is on a runtime of its own, as a peer process would be.
        sim::runtime peer({.name = "peer"});
        peer.start();
        CHECK(peer.invoke([&] {
                      return sim::rpc::open_connection(c.local_address())
                          .remote()
                          .call("agents/0/stop");
                  })
                  .is_nil());
        peer.stop();
        peer.join();
        REQUIRE(sim_test::eventually([&] { return ran; }));
        CHECK(rt.stopping());
    });
}

TEST_CASE("destroying a container ends its agents' fibers and closes its connections", "[agent]") {
    sim::runtime rt;
    rt.run([&] {
        auto peer = std::make_unique<sim::container>("tcp://127.0.0.1:0");
        auto& n = peer->spawn<counter>();
        std::string peer_url = n.address();
        sim::rpc::connection seen;
        {
            sim::container c("tcp://127.0.0.1:0");
            c.spawn<ticker>(0.01);  // real time: keeps sleeping
            auto& caller = c.spawn<counter>();
            auto p = caller.connect(peer_url);
            CHECK(p.call<int>("add") == 1);
            seen = sim::rpc::open_connection(c.local_address());
            CHECK(seen.remote().call("validate_aid", "0") == value("ticker"));
        }
        REQUIRE(sim_test::eventually([&] { return seen.closed(); }));
        peer.reset();
    });
}

TEST_CASE("a container thread that does not answer its shutdown does not hold up its owner",
          "[agent]") {
    // Its thread is kept busy (an agent that never yields) past the destructor's bound: the
    // destructor returns, the thread is left to finish, and then ends the container by itself.
    auto let_go = std::make_shared<std::atomic<bool>>(false);
    auto spinning = std::make_shared<std::atomic<bool>>(false);
    {
        sim::container_thread t("local://busy-on-shutdown");
        t.shutdown_timeout = std::chrono::milliseconds(50);
        t.async([let_go, spinning](sim::container&) {
            *spinning = true;
            const auto cap = std::chrono::steady_clock::now() + std::chrono::seconds(30);
            while (!let_go->load() && std::chrono::steady_clock::now() < cap) {
            }
            *spinning = false;
        });
        REQUIRE(sim_test::eventually([&] { return spinning->load(); }));
    }
    CHECK(spinning->load());  // the destructor returned while the thread was still busy
    *let_go = true;
    CHECK(sim_test::eventually([&] { return !spinning->load(); }));
}

namespace {

// Starts the serving process and connects to its server; returns the two URLs it printed.
std::pair<std::string, std::string> started(sim_test::child_process& p) {
    std::istringstream line(p.read_line());
    std::string word, server, agents;
    line >> word >> server >> agents;
    REQUIRE(word == "listening");
    return {server, agents};
}

}  // namespace

TEST_CASE("a serving process ends cleanly on SIGTERM: calls in flight fail, listeners close",
          "[agent][process][stop]") {
    sim_test::child_process p({SIM_TEST_SERVE_EXE});
    auto [server, agents] = started(p);
    sim::runtime rt;
    rt.run([&, server = server, agents = agents] {
        auto remote = sim::rpc::open_connection(server).remote();
        CHECK(remote.call<std::string>("echo", "before") == "before");
        auto in_flight = remote.async_call("wait");
        auto agent_link = sim::rpc::open_connection(agents).remote();
        CHECK(agent_link.call("validate_aid", "0") == value("Manager"));
        ::kill(p.pid(), SIGTERM);
        CHECK_THROWS_AS(in_flight.get(), sim::connection_closed);
        CHECK(p.read_line() == "stopping " + std::to_string(SIGTERM));
        CHECK(p.wait() == 0);
        // Nothing listens any more.
        CHECK_THROWS_AS(sim::rpc::open_connection(server), sim::connection_error);
        CHECK_THROWS_AS(sim::rpc::open_connection(agents), sim::connection_error);
    });
}

TEST_CASE("a manager's stop ends a serving process as aiomas' does", "[agent][process][stop]") {
    sim_test::child_process p({SIM_TEST_SERVE_EXE});
    auto [server, agents] = started(p);
    sim::runtime rt;
    rt.run([&, agents = agents] {
        auto conn = sim::rpc::open_connection(agents);
        CHECK(conn.remote().call("agents/0/stop").is_nil());
        CHECK(p.read_line() == "stopping 0");
        CHECK(p.wait() == 0);
    });
}

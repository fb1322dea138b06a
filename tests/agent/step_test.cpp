#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <boost/fiber/operations.hpp>

#include <sim/agent/container.hpp>
#include <sim/core/error.hpp>

#include "agent/test_agents.hpp"
#include "support/net.hpp"
#include "support/test_support.hpp"

using namespace std::chrono_literals;
using sim::value;
using sim_test::ticker;

using sim_test::remote_message;

namespace {

sim::container_options virtual_options(double init_time = 0) {
    sim::container_options o;
    o.clock = sim::virtual_time{"2016-01-01T00:00:00+00:00", init_time};
    return o;
}

}  // namespace

TEST_CASE("step wakes agents in (deadline, registration) order and answers the next event",
          "[agent][step]") {
    sim::runtime rt;
    rt.run([&] {
        sim::container c("tcp://127.0.0.1:0", virtual_options());
        std::vector<std::string> log;
        for (double period : {2.0, 1.0, 2.0, 3.0})
            c.spawn<ticker>(period).log = &log;
        CHECK(c.step(0) == std::optional<double>(1));
        CHECK(log.empty());
        CHECK(c.step(1) == std::optional<double>(2));
        CHECK(log == std::vector<std::string>{"1@1"});
        // Due at 2: agents 0 and 2 (set at 0), then 1 (set at 1).
        CHECK(c.step(2) == std::optional<double>(3));
        CHECK(log == std::vector<std::string>{"1@1", "0@2", "2@2", "1@2"});
        // A jump over several deadlines wakes each sleeper once, in (deadline, registration)
        // order: 3 (due 3, set at 0), 1 (due 3, set at 2), 0 and 2 (due 4).
        log.clear();
        CHECK(c.step(6) == std::optional<double>(7));
        CHECK(log == std::vector<std::string>{"3@6", "1@6", "0@6", "2@6"});
        // A step to the same time runs what is ready and wakes nothing new.
        log.clear();
        CHECK(c.step(6) == std::optional<double>(7));
        CHECK(log.empty());
    });
}

TEST_CASE("step refuses times in the past, and agents dates in the past", "[agent][step]") {
    sim::runtime rt;
    rt.run([&] {
        sim::container c("tcp://127.0.0.1:0", virtual_options());
        auto& a = c.spawn<sim_test::counter>();
        c.step(10);
        CHECK_THROWS_WITH(c.step(5), "step: the time must be >= 10 but is 5");
        CHECK_THROWS_AS(c.step(5), std::invalid_argument);
        CHECK_THROWS_WITH(c.virtual_clock().set_time(10), "Time must be > 10 but is 10");
        CHECK(a.clock().utcnow().to_string() == "2016-01-01T00:00:10+00:00");
        CHECK_THROWS_WITH(a.clock().sleep_until(sim::utc_time::parse("2016-01-01T00:00:05+00:00")),
                          "Date \"2016-01-01T00:00:05+00:00\" is in the past");
        CHECK_THROWS_AS(a.clock().call_in(0, [] {}), std::invalid_argument);
        // An agent sleeping until a date wakes at that date's time.
        double woke = -1;
        a.start([&] {
            a.clock().sleep_until(sim::utc_time::parse("2016-01-01T00:01:00+00:00"));
            woke = a.clock().now();
        });
        CHECK(c.step(10) == std::optional<double>(60));
        CHECK(c.step(60) == std::nullopt);
        CHECK(woke == 60);
        // Real time has no steps.
        sim::container real("tcp://127.0.0.1:0");
        CHECK_THROWS_AS(real.step(1), std::logic_error);
    });
}

TEST_CASE("clock/step and friends drive a container over RPC", "[agent][step]") {
    sim::runtime rt;
    rt.run([&] {
        sim::container c("tcp://127.0.0.1:0", virtual_options());
        auto& t = c.spawn<ticker>(1.5);
        auto conn = sim::rpc::open_connection(c.local_address());
        auto clock = conn.remote()["clock"];
        CHECK(clock.call("time") == value(0));
        CHECK(clock.call("step", 0) == value(1.5));
        CHECK(clock.call("next_event") == value(1.5));
        CHECK(clock.call("step", 1.5) == value(3));  // whole numbers travel as integers
        CHECK(t.ticks == 1);
        CHECK(clock.call("time") == value(1.5));
        CHECK(remote_message([&] { clock.call("step", 1); }) ==
              "ValueError: step: the time must be >= 1.5 but is 1");
        CHECK(
            clock.call("set_time", 3).is_nil());  // aiomas semantics: returns before the agents run
        CHECK(clock.call("step", 3) == value(4.5));
        CHECK(t.ticks == 2);
        CHECK(conn.remote().call("container/size") == value(1));
    });
}

TEST_CASE("step waits for the replies its agents wait for", "[agent][step]") {
    sim::runtime rt;
    rt.run([&] {
        // The peer runs in real time on a thread of its own: its answers come when they come.
        sim::container_thread peer("tcp://127.0.0.1:0");
        std::string relay_url = peer.invoke([](sim::container& p) {
            auto& r = p.spawn<sim_test::recorder>();
            return p.spawn<sim_test::relay>(r.address()).address();
        });
        sim::container c("tcp://127.0.0.1:0", virtual_options());
        auto& pinger = c.spawn<sim_test::pinger>(relay_url, 1.0);
        CHECK(c.step(0) == std::optional<double>(1));  // connects meanwhile
        for (int t = 1; t <= 5; ++t) {
            CHECK(c.step(t) == std::optional<double>(t + 1));
            // Back before the step ended: the reply to the call made at t.
            REQUIRE(pinger.got.size() == static_cast<std::size_t>(t));
            CHECK(pinger.got.back() == std::pair<double, double>(t, 1000 + t));
        }
    });
}

TEST_CASE("100,000 agents step together", "[agent][step][scale]") {
#if defined(__SANITIZE_ADDRESS__)
    sim::runtime rt;  // AddressSanitizer's frames need the default stacks
#else
    sim::runtime rt({.stack_size = 16 * 1024});
#endif
    rt.run([&] {
        sim::container c("tcp://127.0.0.1:0", virtual_options());
        constexpr int n = 100'000;
        std::vector<ticker*> agents;
        agents.reserve(n);
        for (int i = 0; i < n; ++i)
            agents.push_back(&c.spawn<ticker>(1.0 + (i % 2)));
        CHECK(c.size() == n);
        CHECK(c.step(0) == std::optional<double>(1));
        for (int t = 1; t <= 6; ++t)
            CHECK(c.step(t) == std::optional<double>(t + 1));
        long total = 0;
        for (auto* a : agents)
            total += a->ticks;
        CHECK(total == n / 2 * 6 + n / 2 * 3);
        CHECK(agents[0]->ticks == 6);
        CHECK(agents[1]->ticks == 3);
        CHECK(c.virtual_clock().waiting() == n);
        // Removing half of them ends their fibers.
        for (int i = 0; i < n; i += 2)
            c.remove(*agents[i]);
        CHECK(c.size() == n / 2);
        CHECK(c.step(7) == std::optional<double>(8));
        CHECK(c.virtual_clock().waiting() == n / 2);
    });
}

// Futures of fibers, when_all, sleeping outside agents and waiting for the process to be told to
// stop: the runtime's offer to code that is not an agent.

#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sim/core/error.hpp>
#include <sim/runtime/future.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/runtime/sleep.hpp>
#include <sim/runtime/wait_for_stop.hpp>
#include <sim/runtime/wait_queue.hpp>

using namespace std::chrono_literals;

TEST_CASE("async runs a fiber whose result or exception comes back through a future",
          "[runtime][future]") {
    sim::runtime rt;
    rt.run([] {
        std::string log;
        auto answer = sim::async([&log] {
            log += "ran ";
            return 42;
        });
        log += "asked ";  // the fiber waits its turn: the caller goes on first
        CHECK(answer.get() == 42);
        CHECK(log == "asked ran ");

        auto failing = sim::async([]() -> int { throw std::invalid_argument("no such thing"); });
        CHECK_THROWS_AS(failing.get(), std::invalid_argument);

        sim::future<void> nothing = sim::async([] {});
        nothing.get();
        CHECK_FALSE(nothing.valid());
    });
    CHECK_THROWS_AS(sim::async([] { return 1; }), std::logic_error);
}

TEST_CASE("when_all gives results in the order asked, whatever order they come in",
          "[runtime][future]") {
    sim::runtime rt;
    rt.run([] {
        sim::wait_queue go;
        int released = 0;
        std::vector<std::string> finished;
        std::vector<sim::future<int>> futures;
        for (int i = 0; i < 5; ++i) {
            futures.push_back(sim::async([&, i] {
                // Each waits until the one after it has finished: they end in reverse order.
                go.wait([&] { return released == 4 - i; });
                finished.push_back(std::to_string(i));
                ++released;
                go.notify_all();
                return i * i;
            }));
        }
        CHECK(sim::when_all(std::move(futures)) == std::vector<int>{0, 1, 4, 9, 16});
        CHECK(finished == std::vector<std::string>{"4", "3", "2", "1", "0"});
    });
}

TEST_CASE("when_all rethrows the first failure, in the order given, once all have settled",
          "[runtime][future]") {
    sim::runtime rt;
    rt.run([] {
        sim::wait_queue changed;
        bool late_done = false;
        bool second_failed = false;
        std::vector<sim::future<int>> futures;
        // The second fails first in time; the third fails after it; the last ends last.
        futures.push_back(sim::async([] { return 1; }));
        futures.push_back(sim::async([&]() -> int {
            second_failed = true;
            changed.notify_all();
            throw std::runtime_error("the second");
        }));
        futures.push_back(sim::async([&]() -> int {
            changed.wait([&] { return second_failed; });
            throw std::invalid_argument("the third");
        }));
        futures.push_back(sim::async([&] {
            changed.wait([&] { return second_failed; });
            boost::this_fiber::yield();
            late_done = true;
            return 4;
        }));
        CHECK_THROWS_WITH(sim::when_all(std::move(futures)), "the second");
        CHECK(late_done);  // nothing still runs when the caller handles the failure

        std::vector<sim::future<void>> plain;
        plain.push_back(sim::async([] {}));
        plain.push_back(sim::async([] { throw std::runtime_error("void failed"); }));
        CHECK_THROWS_WITH(sim::when_all(std::move(plain)), "void failed");
        CHECK(sim::when_all(std::vector<sim::future<int>>{}).empty());
    });
}

TEST_CASE("when_all over futures of different types gives a tuple", "[runtime][future]") {
    sim::runtime rt;
    rt.run([] {
        auto [n, s, nothing] =
            sim::when_all(sim::async([] { return 7; }), sim::async([] { return std::string("x"); }),
                          sim::async([] {}));
        CHECK(n == 7);
        CHECK(s == "x");
        CHECK(nothing == std::monostate{});
        CHECK_THROWS_WITH(sim::when_all(sim::async([] { return 1; }),
                                        sim::async([]() -> int { throw std::runtime_error("b"); })),
                          "b");
    });
}

TEST_CASE("a future is waited for from a plain thread and from another runtime's fiber",
          "[runtime][future]") {
    sim::runtime server({.name = "server"});
    server.start();
    // A plain thread blocks in get().
    CHECK(server.async([] { return std::this_thread::get_id(); }).get() !=
          std::this_thread::get_id());
    sim::runtime client({.name = "client"});
    client.run([&] {
        auto f = server.async([] {
            sim::sleep_for(1ms);
            return std::string("from the server");
        });
        // get() suspends this fiber only: the one spawned after it runs before get() returns.
        bool other_ran = false;
        sim::spawn([&] { other_ran = true; });
        CHECK(f.get() == "from the server");
        CHECK(other_ran);
    });
    server.stop();
    server.join();
}

TEST_CASE("sleep_for suspends only the calling fiber, and a stop calls a long sleep off",
          "[runtime][sleep]") {
    using clock = std::chrono::steady_clock;
    sim::runtime rt;
    std::vector<std::string> order;
    clock::duration slept{};
    bool cancelled = false;
    rt.run([&] {
        sim::spawn([&] {
            const auto start = clock::now();
            sim::sleep_for(20ms);
            slept = clock::now() - start;
            order.push_back("slept");
        });
        sim::spawn([&] { order.push_back("did not wait"); });
        const auto until = clock::now() + 40ms;
        sim::sleep_until(until);
        CHECK(clock::now() >= until);
        order.push_back("main slept");
        sim::sleep_for(-1s);  // a time that has passed: at once
        sim::spawn([&] {
            try {
                sim::sleep_for(std::chrono::hours(1));
            } catch (const sim::cancelled&) {
                cancelled = true;
            }
        });
        // main returns: the runtime stops, and run() returns without waiting an hour.
    });
    REQUIRE(order.size() == 3);
    CHECK(order.front() == "did not wait");
    CHECK(slept >= 20ms);
    CHECK(cancelled);
    CHECK_THROWS_AS(sim::sleep_for(1ms), std::logic_error);
}

TEST_CASE("wait_for_stop returns on a stop request and on a signal", "[runtime][stop]") {
    sim::runtime rt;
    CHECK(rt.run([&] {
        sim::spawn([&] { rt.stop(); });
        return sim::wait_for_stop();
    }) == 0);
    CHECK(rt.run([] {
        sim::spawn([] { ::kill(::getpid(), SIGUSR1); });
        return sim::wait_for_stop({SIGUSR1});
    }) == SIGUSR1);
    // From another thread, a stop request ends the wait too.
    sim::runtime served;
    served.start();
    auto waited = served.async([] { return sim::wait_for_stop(); });
    served.stop();
    CHECK(waited.get() == 0);
    served.join();
    CHECK_THROWS_AS(sim::wait_for_stop(), std::logic_error);
}

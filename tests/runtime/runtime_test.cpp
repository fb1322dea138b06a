#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/fiber/operations.hpp>

#include <sim/runtime/runtime.hpp>
#include <sim/runtime/use_fiber.hpp>
#include <sim/runtime/wait_queue.hpp>

#include "runtime/asio_scheduler.hpp"

using namespace std::chrono_literals;

TEST_CASE("run returns main's result and rethrows its exception", "[runtime]") {
    sim::runtime rt;
    CHECK(rt.run([] { return 42; }) == 42);
    CHECK_THROWS_WITH(rt.run([]() -> int { throw std::runtime_error("boom"); }), "boom");
    // A runtime can run again after it stopped.
    CHECK(rt.run([] { return std::string("again"); }) == "again");
}

TEST_CASE("spawned fibers run in FIFO order and interleave at yields", "[runtime]") {
    sim::runtime rt;
    std::vector<std::string> order;
    rt.run([&] {
        for (int i = 0; i < 3; ++i) {
            sim::spawn([&order, i] {
                order.push_back("a" + std::to_string(i));
                boost::this_fiber::yield();
                order.push_back("b" + std::to_string(i));
            });
        }
    });
    CHECK(order == std::vector<std::string>{"a0", "a1", "a2", "b0", "b1", "b2"});
}

TEST_CASE("run waits for every spawned fiber", "[runtime]") {
    sim::runtime rt;
    int done = 0;
    rt.run([&] {
        sim::spawn([&] {
            boost::this_fiber::sleep_for(20ms);
            ++done;
        });
    });
    CHECK(done == 1);
    CHECK(rt.fibers() == 0);
}

TEST_CASE("an Asio timer suspends only the calling fiber", "[runtime]") {
    sim::runtime rt;
    std::vector<std::string> events;
    rt.run([&] {
        sim::spawn([&] {
            boost::asio::steady_timer t(rt.io(), 30ms);
            t.async_wait(sim::use_fiber);
            events.push_back("timer");
        });
        sim::spawn([&] { events.push_back("other fiber"); });
    });
    CHECK(events == std::vector<std::string>{"other fiber", "timer"});
}

TEST_CASE("use_fiber reports errors by exception or error code", "[runtime]") {
    sim::runtime rt;
    rt.run([&] {
        boost::asio::steady_timer t(rt.io(), 1h);
        sim::spawn([&] { t.cancel(); });
        boost::system::error_code ec;
        t.async_wait(sim::use_fiber[ec]);
        CHECK(ec == boost::asio::error::operation_aborted);

        boost::asio::steady_timer t2(rt.io(), 1h);
        sim::spawn([&] { t2.cancel(); });
        CHECK_THROWS_AS(t2.async_wait(sim::use_fiber), boost::system::system_error);

        // Completion handlers without an error code.
        int posted = boost::asio::post(rt.io(), boost::asio::use_future).valid() ? 1 : 0;
        CHECK(posted == 1);
    });
}

TEST_CASE("busy fibers do not starve I/O", "[runtime]") {
    sim::runtime rt;
    rt.run([&] {
        bool fired = false;
        boost::asio::steady_timer t(rt.io(), 5ms);
        t.async_wait([&](boost::system::error_code) { fired = true; });
        // Two fibers hand the CPU back and forth without ever blocking; the timer must still fire.
        for (int f = 0; f < 2; ++f) {
            sim::spawn([&] {
                while (!fired)
                    boost::this_fiber::yield();
            });
        }
    });
}

TEST_CASE("spawn and invoke are thread-safe; start and stop run a runtime thread", "[runtime]") {
    sim::runtime rt({.name = "worker"});
    rt.start();
    std::atomic<int> ran{0};
    rt.spawn([&] { ++ran; });
    CHECK(rt.invoke([&] { return std::this_thread::get_id(); }) != std::this_thread::get_id());
    CHECK(rt.invoke([&] { return ran.load(); }) == 1);
    CHECK_THROWS_WITH(rt.invoke([]() -> int { throw std::runtime_error("inside"); }), "inside");

    // A fiber of another runtime waits for the answer without blocking its own thread.
    sim::runtime other;
    int answer = other.run([&] {
        int ticks = 0;
        sim::spawn([&] {
            for (int i = 0; i < 3; ++i) {
                ++ticks;
                boost::this_fiber::yield();
            }
        });
        int v = rt.invoke([] {
            boost::this_fiber::sleep_for(10ms);
            return 7;
        });
        CHECK(ticks == 3);  // the other fiber ran while this one waited
        return v;
    });
    CHECK(answer == 7);
    rt.stop();
    rt.join();
    CHECK(rt.stopping());
}

TEST_CASE("stop hooks run when the runtime stops", "[runtime]") {
    sim::runtime rt;
    std::vector<std::string> closed;
    rt.run([&] {
        rt.add_stop_hook([&] { closed.push_back("server"); });
        auto id = rt.add_stop_hook([&] { closed.push_back("removed"); });
        rt.remove_stop_hook(id);
        // A fiber that waits for the stop, as a server's accept loop does.
        sim::spawn([&] {
            while (!rt.stopping())
                boost::this_fiber::sleep_for(1ms);
            closed.push_back("loop");
        });
    });
    std::sort(closed.begin(), closed.end());
    CHECK(closed == std::vector<std::string>{"loop", "server"});
}

TEST_CASE("an exception in a spawned fiber ends only that fiber", "[runtime]") {
    sim::runtime rt;
    int after = 0;
    rt.run([&] {
        sim::spawn([] { throw std::runtime_error("fiber failure (expected in this test)"); });
        sim::spawn([&] { ++after; });
    });
    CHECK(after == 1);
}

TEST_CASE("fibers get the configured stack", "[runtime]") {
    sim::runtime rt({.stack_size = 256 * 1024, .guard_pages = true});
    std::size_t depth = rt.run([] {
        // 100 KiB of locals would overflow the default 64 KiB stack.
        std::function<std::size_t(std::size_t)> recurse = [&](std::size_t n) -> std::size_t {
            volatile char pad[1024];
            pad[0] = static_cast<char>(n);
            return n == 0 ? 0 : 1 + recurse(n - 1) + static_cast<std::size_t>(pad[0] & 0);
        };
        return recurse(100);
    });
    CHECK(depth == 100);
}

TEST_CASE("busy polling still blocks for timers and wakes for work", "[runtime]") {
    sim::runtime rt({.busy_poll = 200us});
    auto start = std::chrono::steady_clock::now();
    rt.run([&] { boost::this_fiber::sleep_for(10ms); });
    CHECK(std::chrono::steady_clock::now() - start >= 10ms);
}

TEST_CASE("a thread runs one runtime at a time", "[runtime]") {
    sim::runtime a, b;
    a.run([&] { CHECK_THROWS_AS(b.run([] {}), std::logic_error); });
    CHECK_THROWS_AS(sim::spawn([] {}), std::logic_error);
}

TEST_CASE("a timed wait woken just after its deadline is scheduled once", "[runtime]") {
    // C and A time out together; the dispatcher makes both ready, C first, and C wakes A while A
    // is already in the ready queue. Scheduling A again would link it twice and lose the fibers
    // queued behind it.
    sim::runtime rt;
    rt.run([] {
        using clock = std::chrono::steady_clock;
        const auto d0 = clock::now() + std::chrono::milliseconds(2);
        sim::detail::fiber_waiter* a_waiter = nullptr;
        int a_returned = 0;
        bool a_result = false;
        sim::spawn([&] {
            sim::detail::fiber_waiter w;
            a_waiter = &w;
            a_result = w.wait_until(d0 + std::chrono::microseconds(1));
            ++a_returned;
        });
        sim::spawn([&] {
            boost::this_fiber::sleep_until(d0);
            a_waiter->wake();
        });
        boost::this_fiber::yield();  // both wait now
        while (clock::now() < d0 + std::chrono::milliseconds(2)) {
            // both deadlines pass while this fiber keeps the thread
        }
        int ran = 0;
        for (int i = 0; i < 100; ++i)
            sim::spawn([&] { ++ran; });
        const auto until = clock::now() + std::chrono::seconds(10);
        while ((ran < 100 || a_returned == 0) && clock::now() < until)
            boost::this_fiber::sleep_for(std::chrono::microseconds(100));
        CHECK(ran == 100);
        CHECK(a_returned == 1);
        CHECK(a_result);  // woken: the wake counts even though the deadline had passed
    });
}

namespace {

// The probe below runs inside the scheduler of `probed`, at the start of suspend_until: the
// moment the dispatcher has drained Boost's remote-ready queue, found nothing to run, and is
// about to look at I/O and go to sleep. There it has another thread wake a fiber, and waits
// until that thread has done so. A scheduler that loses the wake-up then never runs the fiber.
std::atomic<sim::runtime*> probed{nullptr};
std::atomic<bool> armed{false};
std::promise<void>* wake_now = nullptr;
std::future<void>* woken = nullptr;

void wake_at_suspend() {
    if (sim::runtime::current() != probed.load() || !armed.exchange(false)) return;
    wake_now->set_value();
    woken->wait_for(10s);
}

// Arms the probe for `rt`; `wake()` (from the test's thread) sets `value` at the moment the
// probe names, which wakes the fiber of `rt` that waits for `value_f`.
struct remote_wake {
    explicit remote_wake(sim::runtime& rt) {
        probed = &rt;
        wake_now = &wake_now_p;
        woken = &woken_f;
        sim::detail::suspend_probe = &wake_at_suspend;
    }
    ~remote_wake() {
        sim::detail::suspend_probe = nullptr;
        armed = false;
        probed = nullptr;
    }
    void wake() {
        REQUIRE(wake_now_f.wait_for(10s) == std::future_status::ready);
        value.set_value();  // from this thread: Boost's schedule_from_remote, then notify()
        woken_p.set_value();
    }

    std::promise<void> wake_now_p, woken_p;
    std::future<void> wake_now_f = wake_now_p.get_future(), woken_f = woken_p.get_future();
    boost::fibers::promise<void> value;
    boost::fibers::future<void> value_f = value.get_future();
};

}  // namespace

TEST_CASE("a wake-up from another thread while the scheduler goes to sleep is not lost",
          "[runtime]") {
    // Boost.Fiber links a fiber woken from another thread into a remote-ready queue and calls
    // notify(); the dispatcher moves it to the ready queue only between calls to suspend_until.
    // When the notify arrives after that move, the posted wake-up handler is consumed by the
    // poll in suspend_until, which then found no ready fiber and blocked in run_one for good.
    auto busy_poll = GENERATE(0us, 200us);
    sim::runtime rt({.busy_poll = busy_poll});
    remote_wake probe(rt);
    std::promise<void> finished;
    auto finished_f = finished.get_future();
    rt.start();
    rt.spawn([&] {
        armed = true;  // the next suspend_until is the one after this fiber waits
        probe.value_f.get();
        finished.set_value();
    });
    probe.wake();
    CHECK(finished_f.wait_for(10s) == std::future_status::ready);
    rt.stop();  // a post: also frees a scheduler that did lose the wake-up
    rt.join();
}

TEST_CASE("a runtime with a fiber woken from another thread is not idle", "[runtime]") {
    // The same moment: a fiber waiting for idleness must not be told the runtime is idle while a
    // fiber woken from another thread has not run yet (a step would end before it).
    sim::runtime rt;
    remote_wake probe(rt);
    std::promise<void> finished;
    auto finished_f = finished.get_future();
    bool woken_ran = false, ran_before_idle = false;
    rt.start();
    rt.spawn([&] {
        sim::spawn([&] {
            probe.value_f.get();
            woken_ran = true;
        });
        boost::this_fiber::yield();  // the other fiber waits for the value now
        armed = true;
        rt.wait_idle();
        ran_before_idle = woken_ran;
        finished.set_value();
    });
    probe.wake();
    REQUIRE(finished_f.wait_for(10s) == std::future_status::ready);
    CHECK(ran_before_idle);
    rt.stop();
    rt.join();
}

TEST_CASE("async runs a function on another runtime and hands back its result or exception",
          "[runtime]") {
    sim::runtime other({.name = "other"});
    other.start();
    sim::runtime rt;
    rt.run([&] {
        // A move-only function, its result, and the thread it ran on.
        auto value = std::make_unique<int>(41);
        auto f = other.async([v = std::move(value)] {
            return std::pair(*v + 1, sim::runtime::current()->options().name);
        });
        CHECK(f.get() == std::pair(42, std::string("other")));
        auto failing = other.async([]() -> int { throw std::runtime_error("no"); });
        CHECK_THROWS_WITH(failing.get(), "no");
    });
    other.stop();
    other.join();
}

TEST_CASE("a caller of async may stop waiting and go; the function still runs safely",
          "[runtime]") {
    sim::runtime other({.name = "other"});
    other.start();
    auto gate = std::make_shared<boost::fibers::promise<void>>();
    auto finished = std::make_shared<std::promise<int>>();
    auto finished_f = finished->get_future();
    {
        auto f = other.async([opened = gate->get_future(), finished]() mutable {
            opened.get();
            finished->set_value(7);
            return 7;
        });
        CHECK(f.wait_for(std::chrono::milliseconds(1)) == boost::fibers::future_status::timeout);
    }  // the caller gave up: its future and frame are gone
    gate->set_value();
    REQUIRE(finished_f.wait_for(10s) == std::future_status::ready);
    CHECK(finished_f.get() == 7);
    other.stop();
    other.join();
}

// ---- wait_queue -------------------------------------------------------------------------------

TEST_CASE("a wait_queue wakes its waiters one at a time in the order they came, or all at once",
          "[runtime][wait_queue]") {
    sim::runtime rt;
    rt.run([] {
        sim::wait_queue q;
        std::vector<int> woke;
        for (int i = 0; i < 3; ++i) {
            sim::spawn([&, i] {
                q.wait();
                woke.push_back(i);
            });
        }
        boost::this_fiber::yield();  // all three wait now
        REQUIRE(q.size() == 3);
        CHECK(q.notify_one());
        boost::this_fiber::yield();
        CHECK(woke == std::vector<int>{0});
        CHECK(q.size() == 2);
        CHECK(q.notify_all() == 2);
        CHECK(q.empty());
        boost::this_fiber::yield();
        CHECK(woke == std::vector<int>{0, 1, 2});
        CHECK_FALSE(q.notify_one());  // nobody waits: nothing is remembered
        CHECK(q.notify_all() == 0);
    });
}

TEST_CASE("a wait_queue's deadline ends a wait, and the waiter that left is not woken",
          "[runtime][wait_queue]") {
    sim::runtime rt;
    rt.run([] {
        sim::wait_queue q;
        bool second_woke = false;
        sim::spawn([&] {  // runs once this fiber waits: it queues behind it
            q.wait();
            second_woke = true;
        });
        CHECK_FALSE(q.wait_for(std::chrono::milliseconds(1)));
        // This fiber left the head of the queue at its deadline; the queue forgets it.
        CHECK(q.size() == 1);
        CHECK(q.notify_one());  // wakes the second
        CHECK_FALSE(second_woke);
        boost::this_fiber::yield();
        CHECK(second_woke);
        CHECK(q.empty());
    });
}

TEST_CASE("a wait_queue's predicate wait sleeps until its condition holds or the deadline passes",
          "[runtime][wait_queue]") {
    sim::runtime rt;
    rt.run([] {
        sim::wait_queue q;
        int n = 0;
        bool reached = false;
        sim::spawn([&] {
            reached = q.wait_until(sim::wait_queue::clock_type::time_point::max(),
                                   [&] { return n == 3; });
        });
        for (int i = 1; i <= 3; ++i) {
            boost::this_fiber::yield();
            CHECK(q.size() == 1);  // woken by each notification, it waits again until n == 3
            n = i;
            q.notify_all();
        }
        boost::this_fiber::yield();
        CHECK(reached);
        CHECK(q.empty());
        // Already true: no wait at all. Never true: false at the deadline.
        CHECK(q.wait_until(sim::wait_queue::clock_type::now(), [] { return true; }));
        CHECK_FALSE(q.wait_until(sim::wait_queue::clock_type::now() + std::chrono::milliseconds(1),
                                 [] { return false; }));
        CHECK(q.empty());
    });
}

TEST_CASE("a wait_queue destroyed while fibers wait on it wakes them", "[runtime][wait_queue]") {
    sim::runtime rt;
    rt.run([] {
        auto q = std::make_unique<sim::wait_queue>();
        int woke = 0;
        for (int i = 0; i < 2; ++i) {
            sim::spawn([&, raw = q.get()] {
                raw->wait();  // touches nothing of the queue once woken
                ++woke;
            });
        }
        boost::this_fiber::yield();
        REQUIRE(q->size() == 2);
        q.reset();
        boost::this_fiber::yield();
        CHECK(woke == 2);
    });
}

#include <catch2/catch.hpp>

#include <boost/fiber/operations.hpp>

#include <sim/clock/real_clock.hpp>
#include <sim/clock/utc_time.hpp>
#include <sim/clock/virtual_clock.hpp>
#include <sim/codec/json_codec.hpp>
#include <sim/core/error.hpp>
#include <sim/runtime/runtime.hpp>

#include "support/net.hpp"

using namespace std::chrono_literals;

TEST_CASE("dates read and write as arrow does", "[clock][date]") {
    auto d = sim::utc_time::parse("2016-01-01T12:30:00+00:00");
    CHECK(d.to_string() == "2016-01-01T12:30:00+00:00");
    CHECK(d.plus_seconds(90).to_string() == "2016-01-01T12:31:30+00:00");
    CHECK(d.plus_seconds(1.5).to_string() == "2016-01-01T12:30:01.500000+00:00");
    CHECK(sim::utc_time::parse("2016-01-01T14:30:00+02:00") == d);
    CHECK(sim::utc_time::parse("2016-01-01T07:00:00-05:30") == d);
    CHECK(sim::utc_time::parse("2016-01-01T12:30:00Z") == d);
    CHECK(sim::utc_time::parse("2016-01-01 12:30:00") == d);
    CHECK(sim::utc_time::parse("2016-01-01T12:30:00.25+00:00").to_string() ==
          "2016-01-01T12:30:00.250000+00:00");
    CHECK(sim::utc_time::parse("2015-12-31T23:59:59+00:00").plus_seconds(1).to_string() ==
          "2016-01-01T00:00:00+00:00");
    CHECK(sim::utc_time().to_string() == "1970-01-01T00:00:00+00:00");
    CHECK(d.seconds_since(sim::utc_time::parse("2016-01-01T12:00:00+00:00")) == 1800.0);
    for (const char* bad :
         {"2016-13-01T00:00:00", "2016-02-30T00:00:00", "2016-01-01", "2016-01-01T25:00:00",
          "2016-01-01T12:30:00+0x:00", "yesterday", "2016-01-01T12:30:00 junk"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(sim::utc_time::parse(bad), std::invalid_argument);
    }
}

TEST_CASE("a date keeps the UTC offset it came with, as arrow does", "[clock][date]") {
    auto d = sim::utc_time::parse("2016-01-01T01:00:00+01:00");
    CHECK(d.to_string() == "2016-01-01T01:00:00+01:00");
    CHECK(d.utc_offset() == std::chrono::minutes(60));
    CHECK(d == sim::utc_time::parse("2016-01-01T00:00:00+00:00"));  // the same instant
    CHECK(d.to_utc().to_string() == "2016-01-01T00:00:00+00:00");
    CHECK(d.plus_seconds(3600.5).to_string() == "2016-01-01T02:00:00.500000+01:00");
    CHECK(sim::utc_time::parse("2016-01-01T07:00:00-05:30").to_string() ==
          "2016-01-01T07:00:00-05:30");
    CHECK(sim::utc_time::parse("2015-12-31T23:30:00-01:00").to_utc().to_string() ==
          "2016-01-01T00:30:00+00:00");
    CHECK(sim::utc_time::parse("2016-01-01T12:30:00Z").to_string() == "2016-01-01T12:30:00+00:00");
    CHECK_THROWS_AS(sim::utc_time::parse("2016-01-01T00:00:00+24:00"), std::invalid_argument);
    CHECK_THROWS_AS(sim::utc_time({}, std::chrono::hours(-24)), std::invalid_argument);

    // Through a codec, as a date from a Python peer arrives and goes back.
    sim::codec_options o;
    o.serializers.add(sim::utc_time::date_serializer());
    sim::json_codec json(o);
    const std::string wire = R"({"__type__": [0, "2016-01-01T01:00:00+01:00"]})";
    sim::value date = json.decode(wire);
    CHECK(date.as<sim::utc_time>() == d);
    CHECK(std::string(json.encode(date).view()) == wire);
}

TEST_CASE("virtual time moves only when set, strictly forward", "[clock][virtual]") {
    sim::virtual_clock c("2016-01-01T00:00:00+00:00");
    CHECK(c.now() == 0);
    CHECK(c.utcnow().to_string() == "2016-01-01T00:00:00+00:00");
    c.set_time(30);
    CHECK(c.utcnow().to_string() == "2016-01-01T00:00:30+00:00");
    CHECK_THROWS_WITH(c.set_time(10), "Time must be > 30 but is 10");
    CHECK_THROWS_WITH(c.set_time(30), "Time must be > 30 but is 30");
    c.set_time(30.5);
    CHECK_THROWS_WITH(c.set_time(30.25), "Time must be > 30.5 but is 30.25");
    sim::virtual_clock from_minus_one(sim::utc_time(),
                                      -1);  // mosaik's pattern: the first step is 0
    from_minus_one.set_time(0);
    CHECK(from_minus_one.now() == 0);
}

TEST_CASE("virtual wake-ups come in (deadline, registration) order", "[clock][virtual]") {
    sim::runtime rt;
    std::vector<std::string> order;
    rt.run([&] {
        sim::virtual_clock c;
        auto sleeper = [&](std::string name, double t) {
            sim::spawn([&, name, t] {
                c.sleep_until(t);
                order.push_back(name + "@" + std::to_string(static_cast<int>(c.now())));
            });
        };
        sleeper("a", 5);
        sleeper("b", 2);
        sleeper("c", 5);
        sleeper("d", 2);
        sleeper("late", 9);
        c.call_at(2, [&] { order.push_back("timer@2"); });
        auto cancelled = c.call_at(5, [&] { order.push_back("cancelled timer"); });
        boost::this_fiber::yield();  // let the sleepers register
        CHECK(c.next_event() == 2.0);
        CHECK(c.waiting() == 7);
        cancelled.cancel();
        CHECK_FALSE(cancelled.pending());
        c.set_time(6);  // wakes what is due at 2 in registration order, then at 5; not late
        rt.wait_idle();
        // The timer was set before the sleeper fibers first ran, so it registered first.
        CHECK(order == std::vector<std::string>{"timer@2", "b@6", "d@6", "a@6", "c@6"});
        CHECK(c.next_event() == 9.0);
        c.set_time(10);
        rt.wait_idle();
        CHECK(order.back() == "late@10");
        CHECK_FALSE(c.next_event().has_value());
    });
}

TEST_CASE("sleeps and timers by date; dates in the past are errors", "[clock][virtual]") {
    sim::runtime rt;
    rt.run([&] {
        sim::virtual_clock c("2016-01-01T00:00:00+00:00");
        bool woke = false;
        sim::spawn([&] {
            c.sleep_until(sim::utc_time::parse("2016-01-01T00:01:00+00:00"));
            woke = true;
        });
        boost::this_fiber::yield();
        CHECK(c.next_event() == 60.0);
        c.set_time(60);
        rt.wait_idle();
        CHECK(woke);
        CHECK_THROWS_WITH(c.sleep_until(sim::utc_time::parse("2016-01-01T00:00:30+00:00")),
                          "Date \"2016-01-01T00:00:30+00:00\" is in the past");
        CHECK_THROWS_AS(c.sleep_for(0), std::invalid_argument);
        CHECK_THROWS_AS(c.sleep_until(60), std::invalid_argument);
        CHECK_THROWS_AS(c.call_in(-1, [] {}), std::invalid_argument);
    });
}

TEST_CASE("shutting a clock down wakes its sleepers with cancelled", "[clock]") {
    sim::runtime rt;
    rt.run([&] {
        sim::virtual_clock v;
        sim::real_clock r;
        int called_off = 0;
        for (sim::clock* c : {static_cast<sim::clock*>(&v), static_cast<sim::clock*>(&r)}) {
            sim::spawn([&, c] {
                try {
                    c->sleep_for(3600);
                } catch (const sim::cancelled&) {
                    ++called_off;
                }
            });
        }
        bool ran = false;
        v.call_in(1, [&] { ran = true; });
        boost::this_fiber::yield();
        v.cancel_all();
        r.cancel_all();
        CHECK(sim_test::eventually([&] { return called_off == 2; }));
        CHECK_FALSE(v.next_event().has_value());
        CHECK_THROWS_AS(v.sleep_for(1), sim::cancelled);
        CHECK_FALSE(ran);
    });
}

TEST_CASE("real time sleeps suspend only the sleeping fiber", "[clock][real]") {
    sim::runtime rt;
    rt.run([&] {
        sim::real_clock c;
        std::vector<std::string> order;
        sim::spawn([&] {
            c.sleep_for(0.03);
            order.push_back("slept");
        });
        sim::spawn([&] { order.push_back("other"); });
        bool fired = false;
        auto t = c.call_in(0.01, [&] { fired = true; });
        auto never = c.call_in(0.01, [&] { order.push_back("cancelled timer ran"); });
        never.cancel();
        auto start = c.now();
        CHECK(sim_test::eventually([&] { return order.size() == 2 && fired; }));
        CHECK(order == std::vector<std::string>{"other", "slept"});
        CHECK(c.now() - start >= 0.03);
        CHECK_FALSE(t.pending());
        CHECK(std::abs(c.utcnow().seconds_since(sim::utc_time::now())) < 1.0);
    });
}

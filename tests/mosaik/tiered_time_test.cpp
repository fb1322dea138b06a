// Tiered time as a mosaik master uses it (mosaik-scheduler.md §3): the worked examples of the
// scheduler notes, the algebra (following two intervals is adding their sum; sums associate)
// over random intervals, and the order of intervals, including the ones that depend on the time.

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include <sim/mosaik/tiered_time.hpp>

using sim::mosaik::connect_interval;
using sim::mosaik::tiered_interval;
using sim::mosaik::tiered_time;

namespace {

const std::vector<std::string> none;
const std::vector<std::string> outer{"g1"};
const std::vector<std::string> inner{"g1", "g2"};
const std::vector<std::string> other{"h1"};

tiered_interval random_interval(std::mt19937_64& rng, std::size_t pre_length, std::size_t length) {
    std::uniform_int_distribution<std::int64_t> tier(0, 3);
    std::uniform_int_distribution<std::size_t> cut(1, std::min(pre_length, length));
    sim::mosaik::tier_list tiers(length);
    for (auto& t : tiers)
        t = tier(rng);
    return tiered_interval(std::move(tiers), cut(rng), pre_length);
}

tiered_time random_time(std::mt19937_64& rng, std::size_t depth) {
    std::uniform_int_distribution<std::int64_t> tier(0, 5);
    sim::mosaik::tier_list tiers(depth);
    for (auto& t : tiers)
        t = tier(rng);
    return tiered_time(std::move(tiers));
}

}  // namespace

TEST_CASE("connections between groups give mosaik's delays", "[mosaik][tiered-time]") {
    // A and B in one group: A -> B carries both tiers, B -> A weak is one round later.
    const auto a_to_b = connect_interval(outer, outer, 0, false);
    CHECK(a_to_b.to_string() == "0:0|(2)");
    const auto b_to_a_weak = connect_interval(outer, outer, 0, true);
    CHECK(b_to_a_weak.to_string() == "0:1|(2)");
    CHECK((tiered_time{2, 0} + b_to_a_weak) == tiered_time{2, 1});
    CHECK((tiered_time{2, 3} + a_to_b) == tiered_time{2, 3});

    // Nested: A, B in g2 inside g1, C in g1. B at 2:0:0 reaches C at 2:0; C -> B weak at 2:1:0.
    CHECK((tiered_time{2, 0, 0} + connect_interval(inner, outer, 0, false)) == tiered_time{2, 0});
    CHECK((tiered_time{2, 0, 0} + connect_interval(inner, outer, 0, false)).to_string() == "2:0");
    CHECK((tiered_time{2, 0} + connect_interval(outer, inner, 0, true)) == tiered_time{2, 1, 0});
    // Leaving a group drops its round; entering one starts at round 0.
    CHECK((tiered_time{4, 7, 2} + connect_interval(inner, none, 0, false)) == tiered_time{4});
    CHECK((tiered_time{4} + connect_interval(none, inner, 0, false)) == tiered_time{4, 0, 0});
    // Between unrelated groups: only the world's time step carries over.
    CHECK((tiered_time{4, 7} + connect_interval(outer, other, 0, false)) == tiered_time{4, 0});
    // A time shift is in tier 0, with or without groups.
    CHECK((tiered_time{4} + connect_interval(none, none, 2, false)) == tiered_time{6});
    CHECK((tiered_time{4, 1} + connect_interval(outer, outer, 1, true)) == tiered_time{5, 2});

    CHECK_THROWS_WITH(connect_interval(none, none, 0, true),
                      Catch::Contains("a weak connection needs a group that holds both"));
    CHECK_THROWS_AS(connect_interval(outer, other, 0, true), std::invalid_argument);
    CHECK_THROWS_AS(connect_interval(none, none, -1, false), std::invalid_argument);
    CHECK(tiered_time::from_world_time(9, 3) == tiered_time{9, 0, 0});
    CHECK(tiered_time::from_world_time(9, 1).to_string() == "9");
}

TEST_CASE("following two intervals is adding their sum, and sums associate",
          "[mosaik][tiered-time]") {
    std::mt19937_64 rng(20261202);
    std::uniform_int_distribution<std::size_t> len(1, 5);
    for (int round = 0; round < 5000; ++round) {
        const std::size_t l0 = len(rng), l1 = len(rng), l2 = len(rng), l3 = len(rng);
        const auto a = random_interval(rng, l0, l1);
        const auto b = random_interval(rng, l1, l2);
        const auto c = random_interval(rng, l2, l3);
        const auto t = random_time(rng, l0);
        CAPTURE(t.to_string(), a.to_string(), b.to_string(), c.to_string());
        REQUIRE(((t + a) + b) == (t + (a + b)));
        REQUIRE(((a + b) + c) == (a + (b + c)));
        REQUIRE((a + tiered_interval::zero(l1)) == a);
        REQUIRE((t + tiered_interval::zero(l0)) == t);
    }
}

TEST_CASE("intervals are ordered where every time agrees, and unordered where it does not",
          "[mosaik][tiered-time]") {
    const tiered_interval shift0({0, 0}, 2, 2);
    const tiered_interval weak({0, 1}, 2, 2);
    const tiered_interval shift1({1, 0}, 2, 2);
    CHECK(shift0 < weak);
    CHECK(weak < shift1);
    CHECK((shift0 <=> tiered_interval({0, 0}, 2, 2)) == std::partial_ordering::equivalent);
    // Tier 1 added by one, replaced (by 1) by the other: [t, k] + [0, 0|] is [t, k], against
    // [t, 1]: earlier for k = 0, later for k = 2. No order.
    const tiered_interval replaces({0, 1}, 1, 2);
    CHECK((shift0 <=> replaces) == std::partial_ordering::unordered);
    // Replacing by 0 is never later than adding 1.
    const tiered_interval replaces_by_0({0, 0}, 1, 2);
    CHECK(replaces_by_0 < weak);
    CHECK_THROWS_AS((void)(shift0 < tiered_interval({0}, 1, 2)), std::logic_error);
    // Tier 1 leans to the one that adds (t's tier 1 may be above 0), tier 2 to the other: at
    // 1:5:0 the first is earlier, at 1:0:0 later. No order.
    CHECK((tiered_interval({1, 1, 3}, 1, 3) <=> tiered_interval({1, 1, 0}, 2, 3)) ==
          std::partial_ordering::unordered);
    // Leaning and then agreeing: the one that adds is later.
    CHECK(tiered_interval({1, 1, 0}, 1, 3) < tiered_interval({1, 1, 0}, 2, 3));

    // Whatever the order says, every time agrees with it.
    std::mt19937_64 rng(7);
    for (int round = 0; round < 2000; ++round) {
        const auto a = random_interval(rng, 3, 3);
        const auto b = random_interval(rng, 3, 3);
        const auto order = a <=> b;
        if (order == std::partial_ordering::unordered) continue;
        for (int k = 0; k < 20; ++k) {
            const auto t = random_time(rng, 3);
            CAPTURE(a.to_string(), b.to_string(), t.to_string());
            if (order == std::partial_ordering::less) REQUIRE((t + a) <= (t + b));
            if (order == std::partial_ordering::greater) REQUIRE((t + a) >= (t + b));
            if (order == std::partial_ordering::equivalent) REQUIRE((t + a) == (t + b));
        }
    }
    CHECK_THROWS_AS(tiered_interval({0, 0}, 0, 2), std::invalid_argument);
    CHECK_THROWS_AS(tiered_interval({0, 0}, 3, 2), std::invalid_argument);
    CHECK_THROWS_AS(tiered_interval({0, -1}, 1, 2), std::invalid_argument);
    CHECK_THROWS_AS((void)(tiered_time{1, 2} < tiered_time{1}), std::logic_error);
}

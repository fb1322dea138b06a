// Delays along paths of a world's connections: cycles of no delay (which mosaik refuses) and the
// minimal delays between simulators, kept as a set where paths beat each other only for some
// times.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <sim/mosaik/dataflow.hpp>

using sim::mosaik::connect_interval;
using sim::mosaik::dataflow_edge;
using sim::mosaik::describe_path;
using sim::mosaik::tiered_time;
using sim::mosaik::zero_delay_cycle;

namespace {

// A world under construction: simulators with their groups, connections between them.
struct world {
    std::vector<std::string> names;
    std::vector<std::vector<std::string>> groups;
    std::vector<dataflow_edge> edges;

    std::size_t sim(std::string name, std::vector<std::string> in = {}) {
        names.push_back(std::move(name));
        groups.push_back(std::move(in));
        return names.size() - 1;
    }
    void connect(std::size_t from, std::size_t to, std::int64_t shift = 0, bool weak = false) {
        edges.push_back({from, to, connect_interval(groups[from], groups[to], shift, weak)});
    }
    std::string cycle() const {
        return describe_path(zero_delay_cycle(names.size(), edges), names);
    }
};

}  // namespace

TEST_CASE("a cycle of no delay is found and named; shifted and weak ones are fine",
          "[mosaik][dataflow]") {
    {
        world w;
        auto a = w.sim("A"), b = w.sim("B");
        w.connect(a, b);
        CHECK(w.cycle().empty());
        w.connect(b, a);
        CHECK((w.cycle() == "A -> B -> A" || w.cycle() == "B -> A -> B"));
    }
    {
        world w;
        auto a = w.sim("A"), b = w.sim("B"), c = w.sim("C");
        w.connect(a, b);
        w.connect(b, c);
        w.connect(c, a, 1);  // time-shifted: the loop moves on in time
        CHECK(w.cycle().empty());
    }
    {
        world w;  // a same-time loop inside a group, closed by a weak connection
        auto a = w.sim("A", {"g"}), b = w.sim("B", {"g"});
        w.connect(a, b);
        w.connect(b, a, 0, true);
        CHECK(w.cycle().empty());
        w.connect(a, a, 0, true);  // weak onto itself: the next round
        CHECK(w.cycle().empty());
        w.connect(b, b);
        CHECK(w.cycle() == "B -> B");
    }
    {
        // The weak round is lost when the loop leaves the group: C outside sees only the step,
        // and feeds A back at round 0 of the same step. No delay: refused.
        world w;
        auto a = w.sim("A", {"g"}), b = w.sim("B", {"g"}), c = w.sim("C");
        w.connect(a, b, 0, true);
        w.connect(b, c);
        w.connect(c, a);
        const std::string named = w.cycle();
        CHECK((named == "A -> B -> C -> A" || named == "B -> C -> A -> B" ||
               named == "C -> A -> B -> C"));
    }
}

TEST_CASE("minimal delays keep every path that is shortest for some times", "[mosaik][dataflow]") {
    world w;
    auto s = w.sim("S", {"g"}), x = w.sim("X"), b = w.sim("B", {"g"}), d = w.sim("D", {"g"});
    w.connect(s, d);           // [0, 0], both tiers carried
    w.connect(s, x);           // leaves g
    w.connect(x, b);           // enters g at round 0
    w.connect(b, d, 0, true);  // one round later: S -> X -> B -> D is [0 | 1]
    const auto delays = sim::mosaik::path_delays(w.names.size(), w.edges);
    REQUIRE(delays[s][d]);
    const auto& kept = delays[s][d]->entries();
    REQUIRE(kept.size() == 2);
    // From round 0 the direct path is earlier; from round 3 the one through X (round 1).
    CHECK(delays[s][d]->earliest(tiered_time{5, 0}) == tiered_time{5, 0});
    CHECK(delays[s][d]->earliest(tiered_time{5, 3}) == tiered_time{5, 1});
    CHECK(describe_path(kept.front().path, w.names) == "S -> D");
    CHECK(describe_path(kept.back().path, w.names) == "S -> X -> B -> D");
    CHECK_FALSE(delays[d][s]);  // nothing goes back
    CHECK(delays[s][x]->entries().size() == 1);

    // A longer path that is later for every time is not kept.
    sim::mosaik::minimal_delays m;
    CHECK(m.offer(connect_interval(w.groups[s], w.groups[d], 0, false), {s, d}));
    CHECK_FALSE(m.offer(connect_interval(w.groups[s], w.groups[d], 1, false), {s, x, d}));
    CHECK(m.offer(connect_interval(w.groups[s], w.groups[x], 0, false) +
                      connect_interval(w.groups[x], w.groups[d], 0, false),
                  {s, x, d}));  // [0 | 0]: replaces the round by 0, beats [0, 0]
    CHECK(m.entries().size() == 1);
    CHECK(m.entries().front().path.size() == 3);
    CHECK_THROWS_AS(sim::mosaik::path_delays(1, {{0, 1, connect_interval({}, {}, 0, false)}}),
                    std::invalid_argument);
}

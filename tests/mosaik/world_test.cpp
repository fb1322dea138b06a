// The master's scheduler on worlds like those of mosaik 3.3's scenario tests (our own worlds
// and expectations, from the semantics of mosaik-scheduler.md), with in-process simulators:
// each world's execution graph (its causal edges) and the inputs of its steps.

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <sim/codec/json_codec.hpp>
#include <sim/mosaik/remote_simulator.hpp>
#include <sim/mosaik/world.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/runtime/sleep.hpp>

#include "support/net.hpp"

using sim::array;
using sim::map;
using sim::value;
using sim::mosaik::world;

namespace {

value json(const std::string& text) {
    return sim::json_codec().decode(text);
}

// What `create` answers for one entity.
value one_entity(const std::string& eid, const std::string& model) {
    return value(array{value(map{{value("eid"), value(eid)}, {value("type"), value(model)}})});
}

// The generic test simulator (as tests/mosaik/generic_sim.py): model A with attrs val_in,
// trigger_in, val_out, never_out; val_out is the step's time.
class generic_sim : public sim::mosaik::coupled_simulator {
  public:
    value init(const std::string&, double, const map& params) override {
        if (const value* v = params.find(value("step_type"))) type_ = v->as_string();
        if (const value* v = params.find(value("step_size"))) step_size_ = v->as_int64();
        if (const value* v = params.find(value("self_steps"))) {
            for (const auto& [k, next] : v->as_map())
                self_steps_[std::stoll(k.as_string())] = next.as_int64();
        }
        if (const value* v = params.find(value("output_timing"))) {
            timing_ = true;
            for (const auto& [k, at] : v->as_map()) {
                auto& times = output_timing_[std::stoll(k.as_string())];
                if (at.is_array()) {
                    for (const auto& x : at.as_array())
                        times.push_back(x.as_int64());
                } else if (!at.is_nil()) {  // nil: no output at that step
                    times.push_back(at.as_int64());
                }
            }
        }
        map model{{value("public"), value(true)},
                  {value("params"), json(R"(["extra_info"])")},
                  {value("attrs"), json(R"(["val_in", "trigger_in", "val_out", "never_out"])")}};
        if (const value* v = params.find(value("trigger")))
            model.insert_or_assign(value("trigger"), *v);
        if (type_ == "hybrid") model.insert_or_assign(value("non-persistent"), value(array{}));
        return value(map{{value("api_version"), value("3.0")},
                         {value("type"), value(type_)},
                         {value("models"), value(map{{value("A"), value(std::move(model))}})}});
    }
    value create(std::int64_t num, const std::string& model, const map&) override {
        array made;
        for (std::int64_t i = 0; i < num; ++i) {
            eids_.push_back(std::to_string(eids_.size()));
            made.push_back(
                value(map{{value("eid"), value(eids_.back())}, {value("type"), value(model)}}));
        }
        return value(std::move(made));
    }
    void setup_done() override {}
    value step(std::int64_t time, const value&, std::int64_t) override {
        time_ = time;
        if (type_ == "time-based") return value(time + step_size_);
        auto it = self_steps_.find(time);
        return it == self_steps_.end() ? value() : value(it->second);
    }
    value get_data(const value&) override {
        map data;
        if (timing_) {
            // An output time per get_data of that step time, in order (a list for loops).
            auto it = output_timing_.find(time_);
            if (it == output_timing_.end() || it->second.empty()) return value(map{});
            data.insert_or_assign(value("time"), value(it->second.front()));
            it->second.erase(it->second.begin());
        }
        for (const auto& eid : eids_)
            data.insert_or_assign(value(eid), value(map{{value("val_out"), value(time_)}}));
        return value(std::move(data));
    }
    void stop() override { stopped = true; }
    bool stopped = false;

  private:
    std::string type_ = "time-based";
    std::int64_t step_size_ = 1;
    std::map<std::int64_t, std::int64_t> self_steps_;
    bool timing_ = false;
    std::map<std::int64_t, std::vector<std::int64_t>> output_timing_;
    std::vector<std::string> eids_;
    std::int64_t time_ = 0;
};

// A same-time loop's driver (hybrid; loop_in triggers, loop_out is an event): it counts the
// rounds of a loop and outputs the count, until `loop_length` rounds, then steps a time later.
class loop_sim : public sim::mosaik::coupled_simulator {
  public:
    value init(const std::string&, double, const map& params) override {
        if (const value* v = params.find(value("loop_length"))) length_ = v->as_int64();
        return json(R"({"type": "hybrid", "models": {"A": {"public": true, "params": [],
            "attrs": ["loop_in", "loop_out"], "trigger": ["loop_in"],
            "non-persistent": ["loop_out"]}}})");
    }
    value create(std::int64_t, const std::string& model, const map&) override {
        return one_entity("Loop", model);
    }
    void setup_done() override {}
    value step(std::int64_t time, const value&, std::int64_t) override {
        if (++count_ == length_ + 1) {
            count_ = 0;
            return value(time + 1);
        }
        return value();
    }
    value get_data(const value&) override {
        if (count_ == 0) return value(map{});
        return value(map{{value("Loop"), value(map{{value("loop_out"), value(count_)}})}});
    }
    void stop() override {}

  private:
    std::int64_t length_ = 0;
    std::int64_t count_ = 0;
};

// Answers what it got (event-based).
class echo_sim : public sim::mosaik::coupled_simulator {
  public:
    value init(const std::string&, double, const map&) override {
        return json(R"({"type": "event-based", "models": {"A": {"public": true, "params": [],
            "attrs": ["loop_in", "loop_out"]}}})");
    }
    value create(std::int64_t, const std::string& model, const map&) override {
        return one_entity("Echo", model);
    }
    void setup_done() override {}
    value step(std::int64_t, const value& inputs, std::int64_t) override {
        last_ = inputs["Echo"]["loop_in"].as_map().entry_at(0).second;
        return value();
    }
    value get_data(const value&) override {
        return value(map{{value("Echo"), value(map{{value("loop_out"), last_}})}});
    }
    void stop() override {}

  private:
    value last_;
};

// Equal as JSON objects are: maps compare without regard to key order.
bool same(const value& a, const value& b) {
    if (a.is_map() && b.is_map()) {
        if (a.as_map().size() != b.as_map().size()) return false;
        for (const auto& [k, v] : a.as_map()) {
            const value* w = b.as_map().find(k);
            if (w == nullptr || !same(v, *w)) return false;
        }
        return true;
    }
    return a == b;
}

// max_advance is safe (mosaik-scheduler.md §9): no step sends more than the time of the
// simulator's next step that it did not cause itself, minus 1, nor above until.
void check_max_advance(const sim::mosaik::execution_graph& g, std::int64_t until) {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& [a, b] : g.edges)
        out[a].push_back(b);
    for (const auto& n : g.nodes) {
        std::set<std::string> downstream;
        std::vector<std::string> todo{n.id()};
        while (!todo.empty()) {
            auto id = todo.back();
            todo.pop_back();
            for (const auto& next : out[id]) {
                if (downstream.insert(next).second) todo.push_back(next);
            }
        }
        std::int64_t hi = until;
        for (const auto& m : g.nodes) {
            if (m.sid != n.sid || !(n.time < m.time) || downstream.contains(m.id())) continue;
            hi = std::min(hi, m.time.time() - 1);
        }
        CAPTURE(n.id(), n.max_advance, hi);
        CHECK(n.max_advance <= hi);
    }
}

std::string python_sim();

// Whether generic() makes the simulators in-process (C++) or as processes of generic_sim.py,
// which speaks the protocol itself: in_each_mode runs a world both ways.
bool as_processes = false;

std::unique_ptr<sim::mosaik::coupled_simulator> generic() {
    if (!as_processes) return std::make_unique<generic_sim>();
    static int n = 0;
    const std::string name = "generic-" + std::to_string(++n);
    return sim::mosaik::remote_simulator::launch(name, python_sim());
}

// Runs `body` (a world and what it must give) with in-process simulators, then with each
// generic simulator a Python process of its own, stepping concurrently with the others.
template <class F>
void in_each_mode(F body) {
    {
        INFO("in-process simulators");
        body();
    }
    INFO("simulator processes");
    as_processes = true;
    sim::runtime rt;
    try {
        rt.run(body);
    } catch (...) {
        as_processes = false;
        throw;
    }
    as_processes = false;
}

std::set<std::pair<std::string, std::string>> edges_of(const sim::mosaik::execution_graph& g) {
    return {g.edges.begin(), g.edges.end()};
}

std::set<std::pair<std::string, std::string>> edges(const std::string& lines) {
    std::set<std::pair<std::string, std::string>> out;
    std::istringstream in(lines);
    std::string a, b;
    while (in >> a >> b)
        out.emplace(a, b);
    return out;
}

const value& inputs_of(const sim::mosaik::execution_graph& g, const std::string& id) {
    for (const auto& n : g.nodes) {
        if (n.id() == id) return n.inputs;
    }
    FAIL("no step " << id);
    static value none;
    return none;
}

}  // namespace

TEST_CASE("a time-based pair: each step of B reads A's output of its time", "[mosaik][world]") {
    in_each_mode([] {
        world w({.until = 2});
        w.start("A", generic());
        w.start("B", generic());
        auto a = w.create("A", 1, "A");
        auto b = w.create("B", 1, "A");
        w.connect(a[0], b[0], {{"val_out", "val_in"}});
        auto g = w.run();
        check_max_advance(g, 2);
        CHECK(edges_of(g) == edges("A~0 A~1  A~0 B~0  A~1 B~1  B~0 B~1"));
        CHECK(same(inputs_of(g, "B~0"), json(R"({"0": {"val_in": {"A.0": 0}}})")));
        CHECK(same(inputs_of(g, "B~1"), json(R"({"0": {"val_in": {"A.0": 1}}})")));
        CHECK(same(inputs_of(g, "A~0"), json("{}")));
    });
}

TEST_CASE("a slower ancestor: B steps twice on A's step at 0", "[mosaik][world]") {
    in_each_mode([] {
        world w({.until = 3});
        w.start("A", generic(), map{{value("step_size"), value(2)}});
        w.start("B", generic());
        w.connect(w.create("A", 1, "A")[0], w.create("B", 1, "A")[0], {{"val_out", "val_in"}});
        auto g = w.run();
        check_max_advance(g, 3);
        CHECK(edges_of(g) == edges("A~0 A~2  A~0 B~0  A~0 B~1  A~2 B~2  B~0 B~1  B~1 B~2"));
        CHECK(same(inputs_of(g, "B~1"), json(R"({"0": {"val_in": {"A.0": 0}}})")));
        CHECK(same(inputs_of(g, "B~2"), json(R"({"0": {"val_in": {"A.0": 2}}})")));
    });
}

TEST_CASE("event-based to time-based: an output at a later time is seen from then on",
          "[mosaik][world]") {
    in_each_mode([] {
        world w({.until = 3});
        w.start("A", generic(),
                map{{value("step_type"), value("event-based")},
                    {value("output_timing"), json(R"({"0": 2})")}});
        w.start("B", generic());
        w.connect(w.create("A", 1, "A")[0], w.create("B", 1, "A")[0], {{"val_out", "val_in"}});
        w.set_initial_event("A");
        auto g = w.run();
        check_max_advance(g, 3);
        CHECK(edges_of(g) == edges("A~0 B~2  B~0 B~1  B~1 B~2"));
        CHECK(same(inputs_of(g, "B~0"), json("{}")));
        CHECK(same(inputs_of(g, "B~2"), json(R"({"0": {"val_in": {"A.0": 0}}})")));
    });
}

TEST_CASE("an event-based simulator between time-based ones (mosaik's race, run right)",
          "[mosaik][world]") {
    in_each_mode([] {
        world w({.until = 2});
        w.start("A", generic());
        w.start("B", generic(), map{{value("step_type"), value("event-based")}});
        w.start("C", generic());
        w.start("D", generic());
        auto a = w.create("A", 1, "A"), b = w.create("B", 1, "A"), c = w.create("C", 1, "A"),
             d = w.create("D", 1, "A");
        w.connect(c[0], b[0], {{"val_out", "val_in"}});
        w.connect(a[0], b[0], {{"val_out", "val_in"}});
        w.connect(b[0], d[0], {{"val_out", "val_in"}});
        auto g = w.run();
        check_max_advance(g, 2);
        CHECK(edges_of(g) == edges(R"(A~0 B~0  C~0 B~0  B~0 D~0  A~0 A~1  C~0 C~1  D~0 D~1
                                      A~1 B~1  C~1 B~1  B~1 D~1)"));
        CHECK(same(inputs_of(g, "B~0"), json(R"({"0": {"val_in": {"C.0": 0, "A.0": 0}}})")));
        CHECK(same(inputs_of(g, "D~1"), json(R"({"0": {"val_in": {"B.0": 1}}})")));
    });
}

TEST_CASE("hybrid to time-based", "[mosaik][world]") {
    in_each_mode([] {
        world w({.until = 3});
        w.start("A", generic(),
                map{{value("step_type"), value("hybrid")},
                    {value("self_steps"), json(R"({"0": 1, "1": 3})")}});
        w.start("B", generic(), map{{value("step_size"), value(2)}});
        w.set_initial_event("A");
        w.connect(w.create("A", 1, "A")[0], w.create("B", 1, "A")[0], {{"val_out", "val_in"}});
        auto g = w.run();
        check_max_advance(g, 3);
        CHECK(edges_of(g) == edges("A~0 A~1  A~0 B~0  B~0 B~2  A~1 B~2"));
        CHECK(same(inputs_of(g, "B~0"), json(R"({"0": {"val_in": {"A.0": 0}}})")));
        CHECK(same(inputs_of(g, "B~2"), json(R"({"0": {"val_in": {"A.0": 1}}})")));
    });
}

TEST_CASE("a same-time loop in a group, closed by a weak connection", "[mosaik][world]") {
    world w({.until = 2});
    w.start("Loop", std::make_unique<loop_sim>(), map{{value("loop_length"), value(2)}}, {"g"});
    w.start("Echo", std::make_unique<echo_sim>(), {}, {"g"});
    auto loop = w.create("Loop", 1, "A");
    auto echo = w.create("Echo", 1, "A");
    w.set_initial_event("Loop");
    w.connect(loop[0], echo[0], {{"loop_out", "loop_in"}});
    w.connect(echo[0], loop[0], {{"loop_out", "loop_in"}}, {.weak = true});
    auto g = w.run();
    check_max_advance(g, 2);
    CHECK(edges_of(g) == edges(R"(Loop~0:0 Echo~0:0  Echo~0:0 Loop~0:1  Loop~0:1 Echo~0:1
                                  Echo~0:1 Loop~0:2  Loop~0:2 Loop~1:0  Loop~1:0 Echo~1:0
                                  Echo~1:0 Loop~1:1  Loop~1:1 Echo~1:1  Echo~1:1 Loop~1:2)"));
    CHECK(same(inputs_of(g, "Echo~0:0"), json(R"({"Echo": {"loop_in": {"Loop.Loop": 1}}})")));
    CHECK(same(inputs_of(g, "Loop~0:1"), json(R"({"Loop": {"loop_in": {"Echo.Echo": 1}}})")));
    CHECK(same(inputs_of(g, "Loop~1:2"), json(R"({"Loop": {"loop_in": {"Echo.Echo": 2}}})")));
}

TEST_CASE("a world is refused before it runs when its dataflow cannot be scheduled",
          "[mosaik][world]") {
    world w({.until = 2});
    w.start("A", generic());
    w.start("B", generic());
    auto a = w.create("A", 1, "A"), b = w.create("B", 1, "A");
    CHECK_THROWS_WITH(w.connect(a[0], b[0], {{"nope", "val_in"}}), "A.0 has no output \"nope\"");
    CHECK_THROWS_WITH(w.connect(a[0], b[0], {{"val_out", "val_in"}}, {.time_shifted = 1}),
                      Catch::Contains("needs initial_data for val_out"));
    CHECK_THROWS_WITH(w.connect(a[0], b[0], {{"val_out", "val_in"}}, {.weak = true}),
                      Catch::Contains("a weak connection needs a group"));
    CHECK_THROWS_WITH(w.connect("X.0", b[0], {{"val_out", "val_in"}}), "no simulator \"X\"");
    w.connect(a[0], b[0], {{"val_out", "val_in"}});
    w.connect(b[0], a[0], {{"val_out", "val_in"}});
    CHECK_THROWS_WITH(w.run(),
                      Catch::Contains("the dataflow has a cycle without delay: A -> B -> A"));
}

namespace {

map params(const char* text) {
    return json(text).as_map();
}

// Starts Generic simulators named by `sims` ({sid, params as JSON}) with one entity each, and
// connects val_out to val_in along `links`.
struct generic_world {
    world w;
    explicit generic_world(std::int64_t until) : w({.until = until}) {}
    void add(const std::string& sid, const char* p = "{}", std::vector<std::string> groups = {}) {
        w.start(sid, generic(), params(p), std::move(groups));
        w.create(sid, 1, "A");
    }
    void add_loop(const std::string& sid, std::vector<std::string> groups) {
        w.start(sid, std::make_unique<loop_sim>(), params(R"({"loop_length": 2})"),
                std::move(groups));
        w.create(sid, 1, "A");
    }
    void link(const std::string& from, const std::string& to, const char* to_attr = "val_in",
              sim::mosaik::connect_options o = {}) {
        w.connect(from + ".0", to + ".0", {{"val_out", to_attr}}, o);
    }
};

}  // namespace

TEST_CASE("event-based self-steps along a chain", "[mosaik][world]") {
    in_each_mode([] {
        generic_world g(4);
        g.add("A",
              R"({"step_type": "event-based", "self_steps": {"0": 2}, "output_timing": {"0": 0}})");
        g.add("B", R"({"step_type": "event-based"})");
        g.add("C", R"({"step_type": "event-based", "self_steps": {"0": 3}})");
        g.link("A", "B");
        g.link("B", "C");
        g.w.set_initial_event("A");
        auto r = g.w.run();
        check_max_advance(r, 4);
        CHECK(edges_of(r) == edges("A~0 A~2  A~0 B~0  B~0 C~0  C~0 C~3"));
        CHECK(same(inputs_of(r, "C~0"), json(R"({"0": {"val_in": {"B.0": 0}}})")));
        CHECK(same(inputs_of(r, "C~3"), json("{}")));
    });
}

TEST_CASE("event-based to event-based with a later output time", "[mosaik][world]") {
    in_each_mode([] {
        generic_world g(3);
        g.add("A", R"({"step_type": "event-based", "output_timing": {"0": 2}})");
        g.add("B", R"({"step_type": "event-based"})");
        g.link("A", "B");
        g.w.set_initial_event("A");
        auto r = g.w.run();
        check_max_advance(r, 3);
        CHECK(edges_of(r) == edges("A~0 B~2"));
        CHECK(same(inputs_of(r, "B~2"), json(R"({"0": {"val_in": {"A.0": 0}}})")));
    });
}

TEST_CASE("a time-based simulator feeding an event-based chain does not deadlock lazily",
          "[mosaik][world]") {
    in_each_mode([] {
        generic_world g(7);
        g.add("A", R"({"step_size": 3, "output_timing": {"0": 0}})");
        g.add("B", R"({"step_type": "event-based", "self_steps": {"0": 2}, "output_timing": {}})");
        g.add("C", R"({"step_type": "event-based"})");
        g.link("A", "B");
        g.link("A", "C");
        g.link("B", "C");
        g.w.set_initial_event("B", 1);
        g.w.set_initial_event("C", 1);
        auto r = g.w.run();
        check_max_advance(r, 7);
        CHECK(edges_of(r) == edges(R"(A~0 A~3  A~0 C~0  A~0 B~0  A~0 C~1  A~0 B~1  A~0 B~2
                                      B~0 B~2  A~3 A~6)"));
        for (const char* step : {"B~0", "B~1", "B~2", "C~0", "C~1"}) {
            CAPTURE(step);
            CHECK(same(inputs_of(r, step), json(R"({"0": {"val_in": {"A.0": 0}}})")));
        }
    });
}

TEST_CASE("a trigger and a non-trigger connection between the same two entities",
          "[mosaik][world]") {
    in_each_mode([] {
        generic_world g(2);
        g.add("A");
        g.add("B", R"({"step_type": "hybrid", "trigger": ["trigger_in"]})");
        g.link("A", "B", "trigger_in");
        g.link("A", "B", "val_in");
        auto r = g.w.run();
        check_max_advance(r, 2);
        CHECK(edges_of(r) == edges("A~0 B~0  A~0 A~1  A~1 B~1"));
        CHECK(same(inputs_of(r, "B~1"),
                   json(R"({"0": {"trigger_in": {"A.0": 1}, "val_in": {"A.0": 1}}})")));
    });
}

TEST_CASE("a time-shifted connection back, with initial data", "[mosaik][world]") {
    in_each_mode([] {
        generic_world g(2);
        g.add("A");
        g.add("B", R"({"step_type": "hybrid", "self_steps": {"0": 1}})");
        g.link("A", "B");
        g.link("B", "A", "val_in",
               {.time_shifted = 1, .initial_data = params(R"({"val_out": -1})")});
        auto r = g.w.run();
        check_max_advance(r, 2);
        CHECK(edges_of(r) == edges("A~0 A~1  A~0 B~0  B~0 A~1  B~0 B~1  A~1 B~1"));
        CHECK(same(inputs_of(r, "A~0"), json(R"({"0": {"val_in": {"B.0": -1}}})")));
        CHECK(same(inputs_of(r, "A~1"), json(R"({"0": {"val_in": {"B.0": 0}}})")));
        CHECK(same(inputs_of(r, "B~1"), json(R"({"0": {"val_in": {"A.0": 1}}})")));
    });
}

TEST_CASE("self-stepping simulators run to the end after their consumers are done",
          "[mosaik][world]") {
    in_each_mode([] {
        generic_world g(4);
        g.add("A");
        g.add("B", R"({"step_type": "hybrid"})");
        g.link("A", "B");
        auto r = g.w.run();
        check_max_advance(r, 4);
        CHECK(edges_of(r) == edges("A~0 A~1  A~0 B~0  A~1 A~2  A~2 A~3"));
    });
}

TEST_CASE("an earlier step inserted into an event-based chain", "[mosaik][world]") {
    in_each_mode([] {
        generic_world g(4);
        g.add("A", R"({"step_type": "event-based", "self_steps": {"0": 1, "1": 2}})");
        g.add("B", R"({"step_type": "event-based", "self_steps": {"0": 3}})");
        g.add("C", R"({"step_type": "event-based"})");
        g.add("D", R"({"step_type": "event-based"})");
        g.link("A", "B");
        g.link("B", "C");
        g.link("B", "D");
        g.link("C", "D");
        g.w.set_initial_event("A", 0);
        g.w.set_initial_event("B", 0);
        auto r = g.w.run();
        check_max_advance(r, 4);
        CHECK(edges_of(r) == edges(R"(A~0 A~1  A~0 B~0  B~0 B~3  B~0 C~0  B~0 D~0  C~0 D~0
                                      A~1 A~2  A~1 B~1  B~1 C~1  B~1 D~1  C~1 D~1  A~2 B~2
                                      B~2 C~2  B~2 D~2  C~2 D~2  B~3 C~3  B~3 D~3  C~3 D~3)"));
        CHECK(same(inputs_of(r, "D~2"), json(R"({"0": {"val_in": {"B.0": 2, "C.0": 2}}})")));
        CHECK(same(inputs_of(r, "C~3"), json(R"({"0": {"val_in": {"B.0": 3}}})")));
        // max_advance never promises more than is safe: no step of C or D comes before it.
        for (const auto& n : r.nodes) {
            CAPTURE(n.id(), n.max_advance);
            CHECK(n.max_advance >= n.time.time() - 1);
        }
    });
}

TEST_CASE("time-shifted connections both ways, read through the output cache", "[mosaik][world]") {
    in_each_mode([] {
        generic_world g(2);
        g.add("A");
        g.add("B");
        g.add("C");
        const auto shifted = [] {
            return sim::mosaik::connect_options{.time_shifted = 1,
                                                .initial_data = params(R"({"val_out": -1})")};
        };
        g.link("A", "B", "val_in", shifted());
        g.link("B", "A", "val_in", shifted());
        g.link("A", "C");
        g.link("C", "B");
        auto r = g.w.run();
        check_max_advance(r, 2);
        CHECK(edges_of(r) == edges(R"(A~0 A~1  A~0 B~1  A~0 C~0  B~0 B~1  B~0 A~1  C~0 C~1
                                      C~0 B~0  A~1 C~1  C~1 B~1)"));
        CHECK(same(inputs_of(r, "B~0"), json(R"({"0": {"val_in": {"C.0": 0, "A.0": -1}}})")));
        CHECK(same(inputs_of(r, "B~1"), json(R"({"0": {"val_in": {"A.0": 0, "C.0": 1}}})")));
        CHECK(same(inputs_of(r, "A~1"), json(R"({"0": {"val_in": {"B.0": 0}}})")));
    });
}

namespace {

std::set<std::string> nodes_of(const sim::mosaik::execution_graph& g) {
    std::set<std::string> out;
    for (const auto& n : g.nodes)
        out.insert(n.id());
    return out;
}

// id -> [inputs, next_step], ordered by id: what a run must do whatever its timing.
value steps_with_inputs(const sim::mosaik::execution_graph& g) {
    std::map<std::string, value> by_id;
    for (const auto& n : g.nodes)
        by_id.emplace(n.id(), value(array{n.inputs, n.next_step}));
    map out;
    for (auto& [id, v] : by_id)
        out.insert_or_assign(value(id), std::move(v));
    return value(std::move(out));
}

std::string python_sim() {
    return std::string(SIM_PYTHON) + " " + SIM_GENERIC_SIM_PY + " %(addr)s";
}

}  // namespace

TEST_CASE("a hybrid simulator between time-based ones steps on its trigger input",
          "[mosaik][world]") {
    in_each_mode([] {
        generic_world g(2);
        g.add("A");
        g.add("B", R"({"step_type": "hybrid", "trigger": ["val_in"]})");
        g.add("C");
        g.add("D");
        g.link("C", "B");
        g.link("A", "B");
        g.link("B", "D");
        auto r = g.w.run();
        check_max_advance(r, 2);
        CHECK(edges_of(r) == edges("A~0 B~0  C~0 B~0  B~0 D~0  A~0 A~1  C~0 C~1  D~0 D~1 "
                                   "A~1 B~1  C~1 B~1  B~1 D~1"));
        CHECK(same(inputs_of(r, "B~1"), json(R"({"0": {"val_in": {"A.0": 1, "C.0": 1}}})")));
        CHECK(same(inputs_of(r, "D~1"), json(R"({"0": {"val_in": {"B.0": 1}}})")));
    });
}

TEST_CASE("a slower successor reads its provider's output of its own time", "[mosaik][world]") {
    in_each_mode([] {
        generic_world g(4);
        g.add("A");
        g.add("B", R"({"step_size": 2})");
        g.link("A", "B");
        auto r = g.w.run();
        check_max_advance(r, 4);
        CHECK(edges_of(r) == edges("A~0 A~1  A~0 B~0  A~1 A~2  A~2 A~3  A~2 B~2  B~0 B~2"));
        CHECK(same(inputs_of(r, "B~0"), json(R"({"0": {"val_in": {"A.0": 0}}})")));
        CHECK(same(inputs_of(r, "B~2"), json(R"({"0": {"val_in": {"A.0": 2}}})")));
    });
}

TEST_CASE("a single self-stepping simulator steps until the end, exclusive", "[mosaik][world]") {
    in_each_mode([] {
        generic_world g(3);
        g.add("A");
        auto r = g.w.run();
        check_max_advance(r, 3);
        CHECK(edges_of(r) == edges("A~0 A~1  A~1 A~2"));
        CHECK(nodes_of(r) == std::set<std::string>{"A~0", "A~1", "A~2"});
    });
}

TEST_CASE("event-based to a sparser time-based simulator: it sees the latest output",
          "[mosaik][world]") {
    in_each_mode([] {
        generic_world g(3);
        g.add("A", R"({"step_type": "event-based", "self_steps": {"0": 1, "1": 3}})");
        g.add("B", R"({"step_size": 2})");
        g.w.set_initial_event("A");
        g.link("A", "B");
        auto r = g.w.run();
        check_max_advance(r, 3);
        CHECK(edges_of(r) == edges("A~0 A~1  A~0 B~0  B~0 B~2  A~1 B~2"));
        CHECK(same(inputs_of(r, "B~0"), json(R"({"0": {"val_in": {"A.0": 0}}})")));
        CHECK(same(inputs_of(r, "B~2"), json(R"({"0": {"val_in": {"A.0": 1}}})")));
    });
}

TEST_CASE("time-based to event-based with self-steps: both kinds of step meet at 2",
          "[mosaik][world]") {
    in_each_mode([] {
        generic_world g(3);
        g.add("A");
        g.add("B", R"({"step_type": "event-based", "self_steps": {"0": 2}})");
        g.link("A", "B");
        auto r = g.w.run();
        check_max_advance(r, 3);
        CHECK(edges_of(r) == edges("A~0 A~1  A~0 B~0  B~0 B~2  A~1 A~2  A~1 B~1  A~2 B~2"));
        CHECK(same(inputs_of(r, "B~1"), json(R"({"0": {"val_in": {"A.0": 1}}})")));
        CHECK(same(inputs_of(r, "B~2"), json(R"({"0": {"val_in": {"A.0": 2}}})")));
    });
}

TEST_CASE("initial data over a time-shifted connection back from a hybrid simulator",
          "[mosaik][world]") {
    in_each_mode([] {
        generic_world g(2);
        g.add("A");
        g.add("B", R"({"step_type": "hybrid", "self_steps": {"0": 1}})");
        g.link("A", "B");
        g.link("B", "A", "val_in",
               {.time_shifted = 1, .initial_data = map{{value("val_out"), value(-1)}}});
        auto r = g.w.run();
        check_max_advance(r, 2);
        CHECK(edges_of(r) == edges("A~0 A~1  A~0 B~0  B~0 A~1  B~0 B~1  A~1 B~1"));
        CHECK(same(inputs_of(r, "A~0"), json(R"({"0": {"val_in": {"B.0": -1}}})")));
        CHECK(same(inputs_of(r, "A~1"), json(R"({"0": {"val_in": {"B.0": 0}}})")));
        CHECK(same(inputs_of(r, "B~1"), json(R"({"0": {"val_in": {"A.0": 1}}})")));
    });
}

TEST_CASE("an event-based step without output triggers nothing", "[mosaik][world]") {
    in_each_mode([] {
        generic_world g(3);
        g.add("A", R"({"step_type": "event-based", "self_steps": {"0": 1, "1": 3},
                      "output_timing": {"0": 0, "1": null}})");
        g.add("B", R"({"step_type": "event-based"})");
        g.w.set_initial_event("A");
        g.link("A", "B");
        auto r = g.w.run();
        check_max_advance(r, 3);
        CHECK(edges_of(r) == edges("A~0 A~1  A~0 B~0"));
        CHECK(same(inputs_of(r, "B~0"), json(R"({"0": {"val_in": {"A.0": 0}}})")));
    });
}

TEST_CASE("a time-based DAG of five step sizes", "[mosaik][world]") {
    // A(1), D(4) -> B(2) -> C(1), E(3).
    in_each_mode([] {
        generic_world g(5);
        g.add("A");
        g.add("B", R"({"step_size": 2})");
        g.add("C");
        g.add("D", R"({"step_size": 4})");
        g.add("E", R"({"step_size": 3})");
        g.link("A", "B");
        g.link("D", "B");
        g.link("B", "C");
        g.link("B", "E");
        auto r = g.w.run();
        check_max_advance(r, 5);
        CHECK(edges_of(r) == edges("A~0 A~1  A~0 B~0  A~1 A~2  A~2 A~3  A~2 B~2  A~3 A~4 "
                                   "A~4 B~4  B~0 B~2  B~0 C~0  B~0 C~1  B~0 E~0  B~2 B~4 "
                                   "B~2 C~2  B~2 C~3  B~2 E~3  B~4 C~4  C~0 C~1  C~1 C~2 "
                                   "C~2 C~3  C~3 C~4  D~0 B~0  D~0 B~2  D~0 D~4  D~4 B~4 "
                                   "E~0 E~3"));
        CHECK(same(inputs_of(r, "B~2"), json(R"({"0": {"val_in": {"A.0": 2, "D.0": 0}}})")));
        CHECK(same(inputs_of(r, "B~4"), json(R"({"0": {"val_in": {"A.0": 4, "D.0": 4}}})")));
        CHECK(same(inputs_of(r, "C~3"), json(R"({"0": {"val_in": {"B.0": 2}}})")));
        CHECK(same(inputs_of(r, "E~3"), json(R"({"0": {"val_in": {"B.0": 2}}})")));
    });
}

TEST_CASE("event-based and hybrid: a persistent hybrid output is read at a later self-step",
          "[mosaik][world]") {
    in_each_mode([] {
        generic_world g(4);
        g.add("A", R"({"step_type": "event-based", "self_steps": {"0": 3},
                      "output_timing": {"0": 0}})");
        g.add("B", R"({"step_type": "hybrid"})");
        g.add("C", R"({"step_type": "event-based", "self_steps": {"0": 3}})");
        g.link("A", "B");
        g.link("B", "C");
        g.w.set_initial_event("A");
        auto r = g.w.run();
        check_max_advance(r, 4);
        CHECK(edges_of(r) == edges("A~0 A~3  A~0 B~0  B~0 C~0  B~0 C~3  C~0 C~3"));
        CHECK(same(inputs_of(r, "C~0"), json(R"({"0": {"val_in": {"B.0": 0}}})")));
        CHECK(same(inputs_of(r, "C~3"), json(R"({"0": {"val_in": {"B.0": 0}}})")));
    });
}

TEST_CASE("an output that never comes gives None on a trigger input and triggers nothing",
          "[mosaik][world]") {
    in_each_mode([] {
        world w({.until = 2});
        w.start("A", generic());
        w.start("B", generic(), params(R"({"step_type": "hybrid", "trigger": ["trigger_in"]})"));
        const auto a = w.create("A", 1, "A");
        const auto b = w.create("B", 1, "A");
        w.connect(a[0], b[0], {{"never_out", "trigger_in"}, {"val_out", "val_in"}});
        auto r = w.run();
        check_max_advance(r, 2);
        CHECK(edges_of(r) == edges("A~0 B~0  A~0 A~1"));
        CHECK(same(inputs_of(r, "B~0"),
                   json(R"({"0": {"trigger_in": {"A.0": null}, "val_in": {"A.0": 0}}})")));
    });
}

TEST_CASE("event-based and hybrid self-steps without any output", "[mosaik][world]") {
    in_each_mode([] {
        generic_world g(4);
        g.add("A", R"({"step_type": "event-based", "self_steps": {"0": 2},
                      "output_timing": {}})");
        g.add("B", R"({"step_type": "event-based"})");
        g.add("C", R"({"step_type": "hybrid", "self_steps": {"0": 3}})");
        g.link("A", "B");
        g.link("B", "C");
        g.w.set_initial_event("A");
        auto r = g.w.run();
        check_max_advance(r, 4);
        CHECK(edges_of(r) == edges("A~0 A~2  C~0 C~3"));
        CHECK(same(inputs_of(r, "C~0"), json("{}")));
        CHECK(same(inputs_of(r, "C~3"), json("{}")));
    });
}

TEST_CASE("outputs at a later time reach a consumer together with its other provider's",
          "[mosaik][world]") {
    // A -> B -> C and A -> C: A's output of its step at 0 is for time 2, when B outputs too.
    in_each_mode([] {
        generic_world g(4);
        g.add("A", R"({"step_type": "event-based", "self_steps": {"0": 3},
                      "output_timing": {"0": 2}})");
        g.add("B", R"({"step_type": "event-based", "output_timing": {"2": 2}})");
        g.add("C", R"({"step_type": "event-based"})");
        g.link("A", "B");
        g.link("A", "C");
        g.link("B", "C");
        g.w.set_initial_event("A");
        auto r = g.w.run();
        check_max_advance(r, 4);
        CHECK(edges_of(r) == edges("A~0 A~3  A~0 B~2  A~0 C~2  B~2 C~2"));
        CHECK(same(inputs_of(r, "B~2"), json(R"({"0": {"val_in": {"A.0": 0}}})")));
        CHECK(same(inputs_of(r, "C~2"), json(R"({"0": {"val_in": {"A.0": 0, "B.0": 2}}})")));
    });
}

TEST_CASE("two loops chained through nested groups", "[mosaik][world][groups]") {
    // A <-> B in an inner group, B <-> C in the outer one; the ways back are weak.
    in_each_mode([] {
        generic_world g(7);
        g.add("A", R"({"step_type": "event-based", "self_steps": {"0": 4},
                      "output_timing": {"0": 0}})",
              {"outer", "inner"});
        g.add("B", R"({"step_type": "event-based", "self_steps": {"0": 2},
                      "output_timing": {"2": 2}})",
              {"outer", "inner"});
        g.add("C", R"({"step_type": "event-based"})", {"outer"});
        g.link("A", "B");
        g.link("B", "A", "val_in", {.weak = true});
        g.link("B", "C");
        g.link("C", "B", "val_in", {.weak = true});
        g.w.set_initial_event("A", 0);
        auto r = g.w.run();
        check_max_advance(r, 7);
        CHECK(edges_of(r) == edges("A~0:0:0 A~4:0:0  A~0:0:0 B~0:0:0  B~0:0:0 B~2:0:0 "
                                   "B~2:0:0 A~2:0:1  B~2:0:0 C~2:0  C~2:0 B~2:1:0"));
        CHECK(same(inputs_of(r, "B~0:0:0"), json(R"({"0": {"val_in": {"A.0": 0}}})")));
        CHECK(same(inputs_of(r, "A~2:0:1"), json(R"({"0": {"val_in": {"B.0": 2}}})")));
        CHECK(same(inputs_of(r, "C~2:0"), json(R"({"0": {"val_in": {"B.0": 2}}})")));
        CHECK(same(inputs_of(r, "B~2:1:0"), json(R"({"0": {"val_in": {"C.0": 2}}})")));
    });
}

TEST_CASE("two loops through one simulator in a group", "[mosaik][world][groups]") {
    // A <-> B <-> C in one group; B starts, the ways back are weak.
    in_each_mode([] {
        generic_world g(7);
        g.add("A", R"({"step_type": "event-based", "self_steps": {"0": 4},
                      "output_timing": {"0": 0}})",
              {"g"});
        g.add("B", R"({"step_type": "event-based", "self_steps": {"0": 2},
                      "output_timing": {"0": 0}})",
              {"g"});
        g.add("C", R"({"step_type": "event-based"})", {"g"});
        g.link("A", "B");
        g.link("B", "A", "val_in", {.weak = true});
        g.link("B", "C");
        g.link("C", "B", "val_in", {.weak = true});
        g.w.set_initial_event("B", 0);
        auto r = g.w.run();
        check_max_advance(r, 7);
        CHECK(edges_of(r) == edges("B~0:0 B~2:0  B~0:0 A~0:1  B~0:0 C~0:0  A~0:1 A~4:0 "
                                   "A~0:1 B~0:1  C~0:0 B~0:1  B~0:1 B~2:0"));
        CHECK(same(inputs_of(r, "A~0:1"), json(R"({"0": {"val_in": {"B.0": 0}}})")));
        CHECK(same(inputs_of(r, "C~0:0"), json(R"({"0": {"val_in": {"B.0": 0}}})")));
        CHECK(same(inputs_of(r, "B~0:1"), json(R"({"0": {"val_in": {"A.0": 0, "C.0": 0}}})")));
    });
}

TEST_CASE("a loop of three whose outputs come later each time", "[mosaik][world][groups]") {
    // A -> B -> C -> A (weak) in a group, each output at a later time than its step.
    in_each_mode([] {
        generic_world g(6);
        g.add("A", R"({"step_type": "event-based", "output_timing": {"0": 2}})", {"g"});
        g.add("B", R"({"step_type": "event-based", "output_timing": {"2": 3}})", {"g"});
        g.add("C", R"({"step_type": "event-based", "output_timing": {"3": 5}})", {"g"});
        g.link("A", "B");
        g.link("B", "C");
        g.link("C", "A", "val_in", {.weak = true});
        g.w.set_initial_event("A");
        auto r = g.w.run();
        check_max_advance(r, 6);
        CHECK(edges_of(r) == edges("A~0:0 B~2:0  B~2:0 C~3:0  C~3:0 A~5:1"));
        CHECK(same(inputs_of(r, "B~2:0"), json(R"({"0": {"val_in": {"A.0": 0}}})")));
        CHECK(same(inputs_of(r, "C~3:0"), json(R"({"0": {"val_in": {"B.0": 2}}})")));
        CHECK(same(inputs_of(r, "A~5:1"), json(R"({"0": {"val_in": {"C.0": 3}}})")));
    });
}

TEST_CASE("a same-time loop closed by a hybrid simulator's weak connection with initial data",
          "[mosaik][world][groups]") {
    // A -> B -> C -> A (weak, initial data -1), all in one group.
    in_each_mode([] {
        generic_world g(4);
        g.add("A", R"({"step_type": "event-based", "self_steps": {"0": 2},
                      "output_timing": {}})",
              {"g"});
        g.add("B", R"({"step_type": "event-based"})", {"g"});
        g.add("C", R"({"step_type": "hybrid", "self_steps": {"0": 3}})", {"g"});
        g.link("A", "B");
        g.link("B", "C");
        g.link("C", "A", "val_in",
               {.weak = true, .initial_data = map{{value("val_out"), value(-1)}}});
        g.w.set_initial_event("A");
        auto r = g.w.run();
        check_max_advance(r, 4);
        CHECK(edges_of(r) == edges("A~0:0 A~2:0  C~0:0 C~3:0  C~0:0 A~0:1  A~0:1 A~2:0 "
                                   "C~0:0 A~2:0  C~3:0 A~3:1"));
        CHECK(same(inputs_of(r, "A~0:0"), json(R"({"0": {"val_in": {"C.0": -1}}})")));
        CHECK(same(inputs_of(r, "A~0:1"), json(R"({"0": {"val_in": {"C.0": 0}}})")));
        CHECK(same(inputs_of(r, "A~2:0"), json(R"({"0": {"val_in": {"C.0": 0}}})")));
        CHECK(same(inputs_of(r, "A~3:1"), json(R"({"0": {"val_in": {"C.0": 3}}})")));
    });
}

TEST_CASE("a weak event-based loop beside a time-based consumer, close to the end",
          "[mosaik][world][groups]") {
    // A <-> B (B -> A weak) in a group, B -> C time-based; B's output is for time 1 = until.
    generic_world g(1);
    g.add("A", R"({"step_type": "event-based"})", {"g"});
    g.add("B", R"({"step_type": "event-based", "output_timing": {"0": [1]}})", {"g"});
    g.add("C");
    g.w.set_initial_event("A");
    g.link("A", "B");
    g.link("B", "A", "val_in", {.weak = true});
    g.link("B", "C");
    auto r = g.w.run();
    check_max_advance(r, 1);
    CHECK(edges_of(r) == edges("A~0:0 B~0:0"));
    CHECK(nodes_of(r) == std::set<std::string>{"A~0:0", "B~0:0", "C~0"});
    CHECK(same(inputs_of(r, "B~0:0"), json(R"({"0": {"val_in": {"A.0": 0}}})")));
    CHECK(same(inputs_of(r, "C~0"), json("{}")));
}

TEST_CASE("time-based to event-based without self-steps: every step triggers one",
          "[mosaik][world]") {
    in_each_mode([] {
        generic_world g(2);
        g.add("A");
        g.add("B", R"({"step_type": "event-based"})");
        g.link("A", "B");
        auto r = g.w.run();
        check_max_advance(r, 2);
        CHECK(edges_of(r) == edges("A~0 A~1  A~0 B~0  A~1 B~1"));
        CHECK(same(inputs_of(r, "B~0"), json(R"({"0": {"val_in": {"A.0": 0}}})")));
        CHECK(same(inputs_of(r, "B~1"), json(R"({"0": {"val_in": {"A.0": 1}}})")));
    });
}

TEST_CASE("a same-time loop feeding an event-based simulator, cut short by an earlier step",
          "[mosaik][world][groups]") {
    // A <-> Loop (weak back) in a group, both -> C; Loop ends its loop after one round.
    in_each_mode([] {
        world w({.until = 2});
        w.start("A", generic(),
                params(R"({"step_type": "event-based", "self_steps": {"0": 1, "1": 2}})"), {"g"});
        w.start("Loop", std::make_unique<loop_sim>(), params(R"({"loop_length": 1})"), {"g"});
        w.start("C", generic(), params(R"({"step_type": "event-based"})"), {"g"});
        const auto a = w.create("A", 1, "A")[0];
        const auto loop = w.create("Loop", 1, "A")[0];
        const auto c = w.create("C", 1, "A")[0];
        w.connect(a, loop, {{"val_out", "loop_in"}});
        w.connect(loop, a, {{"loop_out", "val_in"}}, {.weak = true});
        w.connect(a, c, {{"val_out", "val_in"}});
        w.connect(loop, c, {{"loop_out", "val_in"}});
        w.set_initial_event("A", 0);
        auto r = w.run();
        check_max_advance(r, 2);
        CHECK(edges_of(r) ==
              edges("A~0:0 A~1:0  A~0:0 Loop~0:0  A~0:0 C~0:0  Loop~0:0 A~0:1  Loop~0:0 C~0:0 "
                    "A~0:1 A~1:0  A~0:1 Loop~0:1  A~0:1 C~0:1  Loop~0:1 Loop~1:0 "
                    "A~1:0 Loop~1:0  A~1:0 C~1:0  Loop~1:0 A~1:1  Loop~1:0 C~1:0 "
                    "A~1:1 C~1:1  A~1:1 Loop~1:1"));
        CHECK(same(inputs_of(r, "A~0:1"), json(R"({"0": {"val_in": {"Loop.Loop": 1}}})")));
        CHECK(
            same(inputs_of(r, "C~0:0"), json(R"({"0": {"val_in": {"A.0": 0, "Loop.Loop": 1}}})")));
        CHECK(same(inputs_of(r, "C~0:1"), json(R"({"0": {"val_in": {"A.0": 0}}})")));
        CHECK(same(inputs_of(r, "Loop~1:1"), json(R"({"Loop": {"loop_in": {"A.0": 1}}})")));
        CHECK(same(inputs_of(r, "C~1:1"), json(R"({"0": {"val_in": {"A.0": 1}}})")));
    });
}

namespace {

// Time-based; its entity E0's `out` is a mapping, another one at each step.
class fixed_out_sim : public sim::mosaik::coupled_simulator {
  public:
    value init(const std::string&, double, const map&) override {
        return json(R"({"type": "time-based", "models": {"Entity": {"public": true,
            "params": [], "attrs": ["out"]}}})");
    }
    value create(std::int64_t, const std::string& model, const map&) override {
        return one_entity("E0", model);
    }
    void setup_done() override {}
    value step(std::int64_t time, const value&, std::int64_t) override {
        time_ = time;
        return value(time + 1);
    }
    value get_data(const value&) override {
        const value out =
            time_ == 0 ? json(R"({"answer": 42})") : json(R"({"question": "still computing"})");
        return value(map{{value("E0"), value(map{{value("out"), out}})}});
    }
    void stop() override {}

  private:
    std::int64_t time_ = 0;
};

}  // namespace

TEST_CASE("a mapping as an output replaces the last one, it is not merged into it",
          "[mosaik][world]") {
    in_each_mode([] {
        world w({.until = 2});
        w.start("FixedOut", std::make_unique<fixed_out_sim>());
        w.start("B", generic());
        w.connect(w.create("FixedOut", 1, "Entity")[0], w.create("B", 1, "A")[0],
                  {{"out", "val_in"}});
        auto r = w.run();
        check_max_advance(r, 2);
        CHECK(edges_of(r) == edges("FixedOut~0 B~0  FixedOut~0 FixedOut~1  B~0 B~1 "
                                   "FixedOut~1 B~1"));
        CHECK(same(inputs_of(r, "B~0"),
                   json(R"({"0": {"val_in": {"FixedOut.E0": {"answer": 42}}}})")));
        CHECK(same(inputs_of(r, "B~1"),
                   json(R"({"0": {"val_in": {"FixedOut.E0": {"question": "still computing"}}}})")));
    });
}

TEST_CASE("the race mosaik loses with processes: run right and identically 20 times",
          "[mosaik][world][process]") {
    // An event-based simulator between time-based ones, each a Python process of its own
    // (mosaik 3.3.3 stops such a world with "cannot progress backwards").
    sim::runtime rt;
    rt.run([] {
        std::optional<value> first;
        for (int round = 0; round < 20; ++round) {
            world w({.until = 3});
            for (const char* sid : {"A", "B", "C", "D"}) {
                w.start(
                    sid, sim::mosaik::remote_simulator::launch(sid, python_sim()),
                    std::string(sid) == "B" ? params(R"({"step_type": "event-based"})") : map{});
                w.create(sid, 1, "A");
            }
            w.connect("C.0", "B.0", {{"val_out", "val_in"}});
            w.connect("A.0", "B.0", {{"val_out", "val_in"}});
            w.connect("B.0", "D.0", {{"val_out", "val_in"}});
            auto g = w.run();
            check_max_advance(g, 3);
            CAPTURE(round);
            REQUIRE(edges_of(g) == edges(R"(A~0 B~0  C~0 B~0  B~0 D~0  A~0 A~1  C~0 C~1  D~0 D~1
                                            A~1 B~1  C~1 B~1  B~1 D~1  A~1 A~2  C~1 C~2  D~1 D~2
                                            A~2 B~2  C~2 B~2  B~2 D~2)"));
            REQUIRE(same(inputs_of(g, "B~2"), json(R"({"0": {"val_in": {"A.0": 2, "C.0": 2}}})")));
            // The same steps with the same inputs and answers every time (with simulators in
            // processes stepping concurrently, the order the calls went out and max_advance
            // within its safe range may differ).
            const value steps = steps_with_inputs(g);
            if (!first) first = steps;
            REQUIRE(steps == *first);
        }
    });
}

TEST_CASE("steps of independent simulator processes run at the same time",
          "[mosaik][world][process]") {
    // A's and B's steps at 1 each end only when the other's is under way too (they meet at a
    // FIFO), so a master that sent one step at a time would never see them end. C reads both.
    sim_test::temp_dir dir;
    const std::string fifo = dir.file("meet");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    sim::runtime rt;
    rt.run([&] {
        world w({.until = 3});
        for (const char* sid : {"A", "B", "C"}) {
            map p;
            if (sid != std::string("C")) {
                p = params(R"({"meet_at": 1})");
                p.insert_or_assign(value("meet_fifo"), value(fifo));
                p.insert_or_assign(value("meet_as"),
                                   value(sid == std::string("A") ? "writer" : "reader"));
            }
            w.start(sid, sim::mosaik::remote_simulator::launch(sid, python_sim()), p);
            w.create(sid, 1, "A");
        }
        w.connect("A.0", "C.0", {{"val_out", "val_in"}});
        w.connect("B.0", "C.0", {{"val_out", "trigger_in"}});
        auto g = w.run();
        check_max_advance(g, 3);
        CHECK(nodes_of(g) ==
              std::set<std::string>{"A~0", "A~1", "A~2", "B~0", "B~1", "B~2", "C~0", "C~1", "C~2"});
        CHECK(same(inputs_of(g, "C~1"),
                   json(R"({"0": {"val_in": {"A.0": 1}, "trigger_in": {"B.0": 1}}})")));
    });
}

TEST_CASE("a simulator process that fails is named, and nothing outlives the run",
          "[mosaik][world][process]") {
    sim::runtime rt;
    rt.run([] {
        // One that exits instead of connecting.
        CHECK_THROWS_WITH(sim::mosaik::remote_simulator::launch("Gone", "exit 3"),
                          Catch::Contains("simulator Gone: \"exit 3\" exited without connecting"));
        // One that aborts in its step at 1.
        world w({.until = 4});
        w.start("A", generic());
        w.create("A", 1, "A");
        auto crashing = sim::mosaik::remote_simulator::launch(
            "T", std::string(SIM_MOSAIK_TEST_SIM_EXE) + " %(addr)s");
        const pid_t pid = crashing->pid();
        REQUIRE(pid > 0);
        w.start("T", std::move(crashing), params(R"({"crash_at": 1})"));
        auto t = w.create("T", 1, "Echo");
        w.connect("A.0", t[0], {{"val_out", "in"}});
        CHECK_THROWS_WITH(w.run(), Catch::Contains("simulator T: step"));
        // Reaped: no such process any more (its group was ended and waited for).
        CHECK(::kill(pid, 0) == -1);
    });
}

TEST_CASE("a control loop in a group tells a simulator outside only its last round",
          "[mosaik][world][groups]") {
    in_each_mode([] {
        generic_world g(1);
        g.add_loop("A", {"g"});
        g.add_loop("B", {"g"});
        g.add("C");
        g.w.connect("A.Loop", "B.Loop", {{"loop_out", "loop_in"}});
        g.w.connect("B.Loop", "A.Loop", {{"loop_out", "loop_in"}}, {.weak = true});
        g.w.connect("A.Loop", "C.0", {{"loop_out", "val_in"}});
        auto r = g.w.run();
        check_max_advance(r, 1);
        CHECK(edges_of(r) ==
              edges("A~0:0 B~0:0  B~0:0 A~0:1  A~0:1 B~0:1  B~0:1 A~0:2  A~0:2 C~0"));
        CHECK(same(inputs_of(r, "A~0:2"), json(R"({"Loop": {"loop_in": {"B.Loop": 2}}})")));
        CHECK(same(inputs_of(r, "C~0"), json(R"({"0": {"val_in": {"A.Loop": 2}}})")));
    });
}

TEST_CASE("a control loop in a group tells a simulator inside its first round",
          "[mosaik][world][groups]") {
    in_each_mode([] {
        generic_world g(1);
        g.add_loop("A", {"g"});
        g.add_loop("B", {"g"});
        g.add("C", "{}", {"g"});
        g.w.connect("A.Loop", "B.Loop", {{"loop_out", "loop_in"}});
        g.w.connect("B.Loop", "A.Loop", {{"loop_out", "loop_in"}}, {.weak = true});
        g.w.connect("A.Loop", "C.0", {{"loop_out", "val_in"}});
        auto r = g.w.run();
        check_max_advance(r, 1);
        CHECK(edges_of(r) ==
              edges("A~0:0 B~0:0  B~0:0 A~0:1  A~0:1 B~0:1  B~0:1 A~0:2  A~0:0 C~0:0"));
        CHECK(same(inputs_of(r, "B~0:1"), json(R"({"Loop": {"loop_in": {"A.Loop": 2}}})")));
        CHECK(same(inputs_of(r, "C~0:0"), json(R"({"0": {"val_in": {"A.Loop": 1}}})")));
    });
}

TEST_CASE("an event-based weak loop whose output comes at a later time",
          "[mosaik][world][groups]") {
    in_each_mode([] {
        generic_world g(3);
        g.add("A", R"({"step_type": "event-based", "output_timing": {"0": 2}})", {"g"});
        g.add("B", R"({"step_type": "event-based"})", {"g"});
        g.link("A", "B");
        g.link("B", "A", "val_in", {.weak = true});
        g.w.set_initial_event("A");
        auto r = g.w.run();
        check_max_advance(r, 3);
        CHECK(edges_of(r) == edges("A~0:0 B~2:0  B~2:0 A~2:1"));
        CHECK(same(inputs_of(r, "B~2:0"), json(R"({"0": {"val_in": {"A.0": 0}}})")));
        CHECK(same(inputs_of(r, "A~2:1"), json(R"({"0": {"val_in": {"B.0": 2}}})")));
    });
}

TEST_CASE("a loop in a group fed from outside does not deadlock", "[mosaik][world][groups]") {
    in_each_mode([] {
        generic_world g(7);
        g.add("A", R"({"step_type": "event-based", "self_steps": {"0": 1}, "output_timing": {}})");
        g.add("B", R"({"step_type": "event-based", "self_steps": {}, "output_timing": {}})", {"g"});
        g.add("C", R"({"step_type": "event-based"})", {"g"});
        g.link("A", "B");
        g.link("B", "C");
        g.link("C", "B", "val_in", {.weak = true});
        g.w.set_initial_event("A", 0);
        g.w.set_initial_event("B", 0);
        auto r = g.w.run();
        check_max_advance(r, 7);
        CHECK(edges_of(r) == edges("A~0 A~1"));
        CHECK(nodes_of(r) == std::set<std::string>{"A~0", "A~1", "B~0:0"});
        CHECK(same(inputs_of(r, "B~0:0"), json("{}")));
    });
}

TEST_CASE("a time-shifted loop of event-based simulators does not loop at one time",
          "[mosaik][world]") {
    generic_world g(2);
    g.add("A", R"({"step_type": "event-based"})");
    g.add("B", R"({"step_type": "event-based", "output_timing": {"0": [0, 0, 1]}})");
    g.w.set_initial_event("A");
    g.link("A", "B");
    g.link("B", "A", "val_in", {.time_shifted = 1, .initial_data = params(R"({"val_out": -1})")});
    auto r = g.w.run();
    check_max_advance(r, 2);
    CHECK(edges_of(r) == edges("A~0 B~0  B~0 A~1  A~1 B~1"));
    CHECK(same(inputs_of(r, "A~0"), json(R"({"0": {"val_in": {"B.0": -1}}})")));
    CHECK(same(inputs_of(r, "A~1"), json(R"({"0": {"val_in": {"B.0": 0}}})")));
    CHECK(same(inputs_of(r, "B~1"), json(R"({"0": {"val_in": {"A.0": 1}}})")));
}

namespace {

// A time-based simulator whose steps take a while of wall time.
class slow_sim : public generic_sim {
  public:
    value step(std::int64_t time, const value& inputs, std::int64_t max_advance) override {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));  // the work of a step
        return generic_sim::step(time, inputs, max_advance);
    }
};

}  // namespace

TEST_CASE("in real time a step starts no earlier than its time, and strict mode fails late ones",
          "[mosaik][world][realtime]") {
    {
        world w({.until = 5, .time_resolution = 0.5, .rt_factor = 0.04});  // 20 ms per step
        w.start("A", generic());
        w.start("B", generic());
        w.connect(w.create("A", 1, "A")[0], w.create("B", 1, "A")[0], {{"val_out", "val_in"}});
        const auto began = std::chrono::steady_clock::now();
        auto g = w.run();
        // The steps at 4 started 4 * 20 ms after the first, not one step early as in mosaik.
        CHECK(std::chrono::steady_clock::now() - began >= std::chrono::milliseconds(80));
        CHECK(g.nodes.size() == 10);
        CHECK(w.lateness().steps == 10);
        check_max_advance(g, 5);
    }
    {
        world w({.until = 5, .rt_factor = 0.005, .rt_strict = true});  // 5 ms per step
        w.start("Slow", std::make_unique<slow_sim>());
        w.create("Slow", 1, "A");
        CHECK_THROWS_WITH(w.run(), Catch::Contains("too slow for real time"));
    }
}

namespace {

// An agent system (time-based, every `step_size`): in each step its agent asks, over an
// async_requests connection, for A.0's val_out (get_data) and sets A.0's val_in to 23
// (set_data), as mosaik's example MAS does.
class mas_sim : public sim::mosaik::coupled_simulator {
  public:
    value init(const std::string& sid, double, const map& params) override {
        sid_ = sid;
        if (const value* v = params.find(value("step_size"))) step_size_ = v->as_int64();
        return json(R"({"type": "time-based", "models": {"Agent": {"public": true,
            "params": [], "attrs": ["x"]}}})");
    }
    value create(std::int64_t, const std::string& model, const map&) override {
        return one_entity("0", model);
    }
    void setup_done() override {}
    void on_request(request_handler h) override { ask_ = std::move(h); }
    value step(std::int64_t time, const value&, std::int64_t) override {
        const value got = ask_("get_data", {json(R"({"A.0": ["val_out"]})")});
        seen.emplace_back(time, got["A.0"]["val_out"].as_int64());
        ask_("set_data", {value(map{{value(sid_ + ".0"), json(R"({"A.0": {"val_in": 23}})")}})});
        return value(time + step_size_);
    }
    value get_data(const value&) override { return value(map{}); }
    void stop() override {}

    std::vector<std::pair<std::int64_t, std::int64_t>> seen;  // (step, A's val_out then)

  private:
    std::string sid_;
    std::int64_t step_size_ = 1;
    request_handler ask_;
};

// Event-based: its step at 0 sets an event for 2 (set_event), as a simulator with its own
// timers does in real time.
class event_setter : public sim::mosaik::coupled_simulator {
  public:
    value init(const std::string&, double, const map&) override {
        return json(R"({"type": "event-based", "models": {"E": {"public": true, "params": [],
            "attrs": []}}})");
    }
    value create(std::int64_t, const std::string& model, const map&) override {
        return one_entity("0", model);
    }
    void setup_done() override {}
    void on_request(request_handler h) override { ask_ = std::move(h); }
    value step(std::int64_t time, const value&, std::int64_t) override {
        if (time == 0) ask_("set_event", {value(2)});
        return value();
    }
    value get_data(const value&) override { return value(map{}); }
    void stop() override {}

  private:
    request_handler ask_;
};

}  // namespace

TEST_CASE("agents with async requests read and set a simulator's data during their steps",
          "[mosaik][world][async]") {
    // A (every 2) <-> agents B (every 1), C (every 2), D (every 3), until 5.
    world w({.until = 5});
    w.start("A", generic(), params(R"({"step_size": 2})"));
    const auto a = w.create("A", 1, "A");
    std::vector<mas_sim*> agents;
    for (auto [sid, size] : {std::pair{"B", 1}, {"C", 2}, {"D", 3}}) {
        auto m = std::make_unique<mas_sim>();
        agents.push_back(m.get());
        w.start(sid, std::move(m), map{{value("step_size"), value(size)}});
        w.connect(a[0], w.create(sid, 1, "Agent")[0], {}, {.async_requests = true});
    }
    auto g = w.run();
    check_max_advance(g, 5);
    // E2 from A's latest step into every agent's step; E3 from each agent's latest step into
    // A's next one.
    CHECK(edges_of(g) == edges("A~0 A~2  A~0 B~0  A~0 B~1  A~0 C~0  A~0 D~0  A~2 A~4  A~2 B~2 "
                               "A~2 B~3  A~2 C~2  A~2 D~3  A~4 B~4  A~4 C~4  B~0 B~1  B~1 A~2 "
                               "B~1 B~2  B~2 B~3  B~3 A~4  B~3 B~4  C~0 A~2  C~0 C~2  C~2 A~4 "
                               "C~2 C~4  D~0 A~2  D~0 D~3  D~3 A~4"));
    CHECK(same(inputs_of(g, "A~0"), json("{}")));
    CHECK(
        same(inputs_of(g, "A~2"), json(R"({"0": {"val_in": {"B.0": 23, "C.0": 23, "D.0": 23}}})")));
    CHECK(
        same(inputs_of(g, "A~4"), json(R"({"0": {"val_in": {"B.0": 23, "C.0": 23, "D.0": 23}}})")));
    // A's val_out is the time of its latest step, asked of A (nothing of A is cached).
    CHECK(agents[0]->seen == std::vector<std::pair<std::int64_t, std::int64_t>>{
                                 {0, 0}, {1, 0}, {2, 2}, {3, 2}, {4, 4}});
    CHECK(agents[2]->seen == std::vector<std::pair<std::int64_t, std::int64_t>>{{0, 0}, {3, 2}});
}

TEST_CASE("agents in processes make their async requests over their connections",
          "[mosaik][world][async][process]") {
    // The same world with every simulator a Python process: the agents' get_data goes on to
    // A's process while their own step waits for the answer.
    sim::runtime rt;
    rt.run([] {
        world w({.until = 5});
        w.start("A", sim::mosaik::remote_simulator::launch("A", python_sim()),
                params(R"({"step_size": 2})"));
        const auto a = w.create("A", 1, "A");
        for (auto [sid, size] : {std::pair{"B", 1}, {"C", 2}, {"D", 3}}) {
            w.start(sid, sim::mosaik::remote_simulator::launch(sid, python_sim()),
                    map{{value("step_size"), value(size)}, {value("async_peer"), value("A.0")}});
            w.connect(a[0], w.create(sid, 1, "A")[0], {}, {.async_requests = true});
        }
        auto g = w.run();
        check_max_advance(g, 5);
        CHECK(edges_of(g) ==
              edges("A~0 A~2  A~0 B~0  A~0 B~1  A~0 C~0  A~0 D~0  A~2 A~4  A~2 B~2 A~2 B~3  "
                    "A~2 C~2  A~2 D~3  A~4 B~4  A~4 C~4  B~0 B~1  B~1 A~2 B~1 B~2  B~2 B~3  "
                    "B~3 A~4  B~3 B~4  C~0 A~2  C~0 C~2  C~2 A~4 C~2 C~4  D~0 A~2  D~0 D~3  "
                    "D~3 A~4"));
        CHECK(same(inputs_of(g, "A~4"),
                   json(R"({"0": {"val_in": {"B.0": 23, "C.0": 23, "D.0": 23}}})")));
    });
}

namespace {

// A simulator whose meta lists `extra` as extra methods.
class extras_sim : public generic_sim {
  public:
    explicit extras_sim(array extra) : extra_(std::move(extra)) {}
    value init(const std::string& sid, double resolution, const map& params) override {
        value meta = generic_sim::init(sid, resolution, params);
        meta.as_map().insert_or_assign(value("extra_methods"), value(extra_));
        return meta;
    }
    value call_extra(const std::string& name, array args, map) override {
        return value(name + "(" + std::to_string(args.size()) + ")");
    }

  private:
    array extra_;
};

}  // namespace

TEST_CASE("extra methods are checked against the API and called by name before the run",
          "[mosaik][world]") {
    world w({.until = 1});
    CHECK_THROWS_WITH(w.start("X", std::make_unique<extras_sim>(array{value("step")})),
                      "simulator X: its extra method \"step\" clashes with a call of the API");
    CHECK_THROWS_WITH(w.start("Y", std::make_unique<extras_sim>(array{value("A")})),
                      "simulator Y: its extra method \"A\" clashes with a model's name");
    w.start("Z", std::make_unique<extras_sim>(array{value("reset")}));
    CHECK(w.call_extra("Z", "reset", {value(1), value(2)}) == value("reset(2)"));
    CHECK_THROWS_WITH(w.call_extra("Z", "rest"),
                      "simulator Z has no extra method \"rest\" (it has: reset)");
    const auto z = w.create("Z", 2, "A");
    // Before the run val_out is the time of no step: 0 here, one get_data for both.
    CHECK(same(w.get_data(z, {"val_out"}),
               json(R"({"Z.0": {"val_out": 0}, "Z.1": {"val_out": 0}})")));
    CHECK_THROWS_WITH(w.get_data(z, {"bogus"}), "Z.0 (model A) has no output \"bogus\"");
}

TEST_CASE("get_data goes out behind step to simulators that answer in order, and sees the step",
          "[mosaik][world][process]") {
    // Three example-sim processes in a chain (val -> delta): libsim's simulators say in init
    // that they answer in order, so the master sends get_data without waiting for step's
    // answer; what get_data answers must still be the state after the step.
    sim::runtime rt;
    rt.run([] {
        world w({.until = 3});
        std::string from;
        for (const char* sid : {"A", "B", "C"}) {
            w.start(sid, sim::mosaik::remote_simulator::launch(
                             sid, std::string(SIM_EXAMPLE_SIM_EXE) + " %(addr)s"));
            const auto made = w.create(sid, 1, "ExampleModel", map{{value("init_val"), value(0)}});
            if (!from.empty()) w.connect(from, made[0], {{"val", "delta"}});
            from = made[0];
        }
        auto g = w.run();
        // A's val after its step at t is t + 1; B adds that up: 1, 3, 6.
        CHECK(same(inputs_of(g, "C~0"), json(R"({"Model_0": {"delta": {"B.Model_0": 1.0}}})")));
        CHECK(same(inputs_of(g, "C~1"), json(R"({"Model_0": {"delta": {"B.Model_0": 3.0}}})")));
        CHECK(same(inputs_of(g, "C~2"), json(R"({"Model_0": {"delta": {"B.Model_0": 6.0}}})")));
    });
}

namespace {

// Event-based, with nothing scheduled: from outside its steps (a fiber of its own, as a
// simulator's device or user would) it sets events at 1 and 2 once the run has begun.
class event_source : public sim::mosaik::coupled_simulator {
  public:
    value init(const std::string&, double, const map&) override {
        return json(R"({"type": "event-based", "models": {"A": {"public": true, "params": [],
            "attrs": ["val_out"]}}})");
    }
    value create(std::int64_t, const std::string& model, const map&) override {
        return one_entity("0", model);
    }
    void setup_done() override {
        sim::runtime::current()->spawn([this] {
            ask_("set_event", {value(1)});
            sim::sleep_for(std::chrono::milliseconds(20));
            ask_("set_event", {value(2)});
        });
    }
    void on_request(request_handler h) override { ask_ = std::move(h); }
    value step(std::int64_t time, const value&, std::int64_t) override {
        time_ = time;
        return value();
    }
    value get_data(const value&) override {
        return value(map{{value("0"), value(map{{value("val_out"), value(time_)}})}});
    }
    void stop() override {}

  private:
    request_handler ask_;
    std::int64_t time_ = 0;
};

}  // namespace

TEST_CASE("in real time a simulator sets events outside its steps, held by the wall clock",
          "[mosaik][world][realtime]") {
    // mosaik's "strange event times", made robust: the events come while the wall clock is
    // still before them (0.2 s per step).
    sim::runtime rt;
    rt.run([] {
        world w({.until = 3, .rt_factor = 0.2});
        w.start("A", std::make_unique<event_source>());
        w.start("B", generic(), params(R"({"step_type": "event-based"})"));
        w.connect(w.create("A", 1, "A")[0], w.create("B", 1, "A")[0], {{"val_out", "val_in"}});
        auto r = w.run();
        check_max_advance(r, 3);
        CHECK(nodes_of(r) == std::set<std::string>{"A~1", "A~2", "B~1", "B~2"});
        CHECK(edges_of(r) == edges("A~1 B~1  A~2 B~2"));
        CHECK(same(inputs_of(r, "B~1"), json(R"({"0": {"val_in": {"A.0": 1}}})")));
        CHECK(same(inputs_of(r, "B~2"), json(R"({"0": {"val_in": {"A.0": 2}}})")));
    });
}

namespace {

// Makes malformed requests of the master in its step and keeps what each was answered.
class bad_asker : public mas_sim {
  public:
    void on_request(request_handler h) override { ask_ = std::move(h); }
    value step(std::int64_t time, const value&, std::int64_t) override {
        const std::vector<std::pair<std::string, array>> requests = {
            {"get_data", {value(1)}},
            {"get_data", {json(R"({"A.0": "val_out"})")}},
            {"get_data", {json(R"({"A.9": ["val_out"]})")}},
            {"set_data", {json(R"({"B.0": {"A.0": 23}})")}},
            {"set_event", {value("soon")}},
            {"get_everything", {}}};
        for (const auto& [name, args] : requests) {
            try {
                ask_(name, args);
                answers.push_back(name + ": answered");
            } catch (const std::exception& e) {
                answers.push_back(name + ": " + e.what());
            }
        }
        return value(time + 1);
    }
    std::vector<std::string> answers;

  private:
    request_handler ask_;
};

}  // namespace

TEST_CASE("malformed requests from a simulator are answered with a clear failure",
          "[mosaik][world][async]") {
    world w({.until = 1});
    w.start("A", generic());
    auto asker = std::make_unique<bad_asker>();
    bad_asker* b = asker.get();
    w.start("B", std::move(asker));
    w.connect(w.create("A", 1, "A")[0], w.create("B", 1, "Agent")[0], {}, {.async_requests = true});
    w.run();
    REQUIRE(b->answers.size() == 6);
    CHECK_THAT(b->answers[0], Catch::Contains("get_data takes {full_id: [attribute, ...]}"));
    CHECK_THAT(b->answers[1], Catch::Contains("get_data takes {full_id: [attribute, ...]}"));
    CHECK_THAT(b->answers[2], Catch::Contains("simulator A has no entity \"9\""));
    CHECK_THAT(b->answers[3],
               Catch::Contains("set_data takes {source: {destination: {attribute: value}}}"));
    CHECK_THAT(b->answers[4], Catch::Contains("set_event(time) takes an integer time"));
    CHECK_THAT(b->answers[5], Catch::Contains("get_everything is not a request of mosaik's API"));
}

TEST_CASE("async requests need an async_requests connection, and set_event real time",
          "[mosaik][world][async]") {
    {
        // B reads A without async_requests: its step fails, naming both.
        world w({.until = 2});
        w.start("A", generic());
        w.start("B", std::make_unique<mas_sim>());
        w.connect(w.create("A", 1, "A")[0], w.create("B", 1, "Agent")[0], {{"val_out", "x"}});
        CHECK_THROWS_WITH(w.run(), Catch::Contains("Async. requests are not enabled for the "
                                                   "connection from A to B"));
    }
    {
        world w({.until = 2});
        w.start("A", generic());
        w.start("B", std::make_unique<mas_sim>());
        w.create("A", 1, "A");
        w.create("B", 1, "Agent");
        CHECK_THROWS_WITH(w.run(), Catch::Contains("No connection from A to B"));
    }
    {
        // In real time the event is a step; as fast as possible it is mosaik's error.
        world w({.until = 4, .rt_factor = 0.001});
        w.start("E", std::make_unique<event_setter>());
        w.create("E", 1, "E");
        w.set_initial_event("E", 0);
        auto g = w.run();
        CHECK(nodes_of(g) == std::set<std::string>{"E~0", "E~2"});
        world fast({.until = 4});
        fast.start("E", std::make_unique<event_setter>());
        fast.create("E", 1, "E");
        fast.set_initial_event("E", 0);
        CHECK_THROWS_WITH(fast.run(), Catch::Contains("Simulator 'E' tried to set an event in "
                                                      "non-real-time mode."));
    }
}

TEST_CASE("a stop request ends a run before its next step and stops the simulators",
          "[mosaik][world]") {
    std::atomic<bool> stop{false};
    world w({.until = 100, .stop = &stop});
    auto a = std::make_unique<generic_sim>();
    generic_sim* seen = a.get();
    w.start("A", std::move(a));
    w.create("A", 1, "A");
    // The request comes from outside (a signal handler in sim-runner); here, after a step.
    struct stopper : generic_sim {
        std::atomic<bool>* stop = nullptr;
        value step(std::int64_t time, const value& in, std::int64_t max_advance) override {
            if (time == 2) stop->store(true);
            return generic_sim::step(time, in, max_advance);
        }
    };
    auto b = std::make_unique<stopper>();
    b->stop = &stop;
    w.start("B", std::move(b));
    w.create("B", 1, "A");
    auto g = w.run();
    CHECK(w.interrupted());
    CHECK(g.nodes.size() < 200);
    CHECK(nodes_of(g).contains("B~2"));
    CHECK_FALSE(nodes_of(g).contains("B~4"));
    CHECK(seen->stopped);
}

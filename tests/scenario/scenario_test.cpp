// Scenario files: parsing and its error messages, overrides, and runs (parameters, topologies,
// recordings, determinism) with the runner in this process.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <sim/agent/agent.hpp>
#include <sim/agent/container.hpp>
#include <sim/agent/registry.hpp>
#include <sim/scenario/runner.hpp>
#include <sim/scenario/scenario.hpp>

#include "support/net.hpp"

namespace fs = std::filesystem;

namespace {

std::string problems_of(const std::string& yaml, const std::vector<std::string>& sets = {}) {
    try {
        sim::parse_scenario(yaml, "s.yaml", sets);
    } catch (const sim::scenario_error& e) {
        return e.what();
    }
    return "(no error)";
}

const std::string head =
    "seed: 1\n"
    "clock: {mode: virtual, until: 10, step: 1}\n"
    "containers:\n"
    "  - {name: main}\n";

// Shows what it was made with: its parameters and the ids of the agents it knows.
class probe : public sim::agent {
  public:
    probe(sim::container& c, double x, std::int64_t n, std::string s,
          std::vector<std::string> knows)
        : agent(c), x_(x), n_(n), s_(std::move(s)), knows_(std::move(knows)) {
        observable("x", [this] { return x_; });
        observable("n", [this] { return n_; });
        observable("s", [this] { return s_; });
        observable("knows", [this] {
            std::string ids;
            for (const auto& k : knows_)
                ids += (ids.empty() ? "" : " ") + k.substr(k.rfind('/') + 1);
            return ids;
        });
        observable("ticks", [this] { return ticks_; });
        start([this] {
            for (;;) {
                clock().sleep_for(1);
                ++ticks_;
            }
        });
    }

  private:
    double x_;
    std::int64_t n_;
    std::string s_;
    std::vector<std::string> knows_;
    std::int64_t ticks_ = 0;
};

sim::agent_registry probe_types() {
    sim::agent_registry r;
    r.add<probe, double, std::int64_t, std::string, std::vector<std::string>>(
        "probe", sim::arg("x") = 0.0, sim::arg("n") = 0, sim::arg("s") = std::string(),
        sim::arg("knows") = std::vector<std::string>{});
    return r;
}

// Runs `yaml` and returns the recordings' text by file name.
std::map<std::string, std::string> run(const std::string& yaml,
                                       std::optional<std::uint64_t> seed = {}) {
    sim_test::temp_dir dir;
    auto s = sim::parse_scenario(yaml, "s.yaml");
    sim::run_options o;
    o.out_dir = dir.file("out");
    o.seed = seed;
    sim::run_scenario(s, probe_types(), o);
    std::map<std::string, std::string> out;
    for (const auto& entry : fs::directory_iterator(o.out_dir)) {
        if (entry.path().filename() == "summary.json") continue;
        std::ifstream in(entry.path());
        std::stringstream ss;
        ss << in.rdbuf();
        out[entry.path().filename().string()] = ss.str();
    }
    return out;
}

// The value of column `k` of each row at time `t` (CSV "time,agent,...").
std::vector<std::string> column_at(const std::string& csv, const std::string& t, std::size_t k) {
    std::vector<std::string> out;
    std::istringstream lines(csv);
    std::string line;
    while (std::getline(lines, line)) {
        std::vector<std::string> fields;
        std::stringstream ss(line);
        for (std::string f; std::getline(ss, f, ',');)
            fields.push_back(f);
        if (!fields.empty() && fields[0] == t && k < fields.size()) out.push_back(fields[k]);
    }
    return out;
}

}  // namespace

TEST_CASE("durations are numbers or numbers with a unit", "[scenario]") {
    CHECK(sim::parse_duration("900") == 900);
    CHECK(sim::parse_duration("900s") == 900);
    CHECK(sim::parse_duration("15min") == 900);
    CHECK(sim::parse_duration("1.5h") == 5400);
    CHECK(sim::parse_duration("1d") == 86400);
    CHECK(sim::parse_duration("250ms") == 0.25);
    CHECK_THROWS_WITH(sim::parse_duration("ten"), Catch::Contains("not a duration: \"ten\""));
    CHECK_THROWS_AS(sim::parse_duration("5 weeks"), std::invalid_argument);
}

TEST_CASE("a scenario file's mistakes are named by line, column and key", "[scenario]") {
    CHECK(problems_of(head + "agents:\n  - {type: probe, count: 0}\n") ==
          "s.yaml:6:26: agents[0].count: expected a positive integer, got 0");
    CHECK(
        problems_of(head + "agents:\n  - {type: probe, conut: 2}\n") ==
        "s.yaml:6:19: agents[0].conut: unknown key (expected one of: name, type, count, container, "
        "params, knows)");
    CHECK(problems_of(head + "agents:\n  - {count: 2}\n") ==
          "s.yaml:6:5: agents[0].type: missing (expected a registered agent type)");
    CHECK(problems_of("seed: 1\nclock: {mode: virtual, until: soon}\ncontainers: [{name: "
                      "a}]\nagents: [{type: probe}]\n") ==
          "s.yaml:2:31: clock.until: expected a duration: seconds as a number, or a number with a "
          "unit "
          "such as 900s, 15min, 6h, 1d, got \"soon\"");
    CHECK(problems_of(head + "agents:\n  - {type: probe, container: other}\n") ==
          "s.yaml:6:30: agents[0].container: no container \"other\" (containers: main)");
    CHECK(problems_of(head + "agents:\n  - {type: probe, knows: {star: hub}}\n") ==
          "s.yaml:6:26: agents[0].knows.star: no agent group \"hub\" (groups: probe)");
    CHECK(
        problems_of(head + "agents:\n  - {type: probe}\n  - {type: probe}\n") ==
        "s.yaml:7:5: agents[1].name: \"probe\" names two agent groups (give each group of the same "
        "type a name)");
    CHECK(
        problems_of(head + "agents:\n  - {type: probe, params: {x: {uniform: [1]}}}\n")
            .starts_with("s.yaml:6:31: agents[0].params.x: expected a value, or one distribution"));
    CHECK(
        problems_of(
            head +
            "agents: [{type: probe}]\nrecord:\n  - {agents: probe, observe: [x], to: out.txt}\n") ==
        "s.yaml:7:39: record[0].to: expected a file name ending in .csv or .jsonl, got "
        "\"out.txt\"");
    CHECK(problems_of("clock: {mode: virtual\n").starts_with("s.yaml:2:1: not valid YAML"));
    CHECK(problems_of("seed: 1\nclock: {mode: virtual, until: 5}\n"
                      "containers: [{name: a, process: true, tls: {ca: c, cert: c, key: k}}]\n"
                      "agents: [{type: probe}]\n")
              .starts_with("s.yaml:3:44: containers[0].tls: TLS for containers in processes of "
                           "their own is not supported yet"));
    CHECK(problems_of("seed: 1\nclock: {mode: virtual, until: 5}\ncontainers: [{name: a}, {name: "
                      "b, codec: msgpack}]\n"
                      "agents: [{type: probe}]\n") ==
          "s.yaml:3:42: containers[1].codec: the containers of a scenario talk to each other: they "
          "need "
          "one codec (containers[0] uses json, this one msgpack)");
}

TEST_CASE("overrides from --set change keys by dotted path before the file is checked",
          "[scenario]") {
    auto s = sim::parse_scenario(head + "agents:\n  - {type: probe, count: 2}\n", "s.yaml",
                                 {"agents.0.count=5", "seed=9", "clock.until=1h"});
    CHECK(s.agents[0].count == 5);
    CHECK(s.seed == 9);
    CHECK(s.clock.until == 3600);
    CHECK(problems_of(head + "agents: [{type: probe}]\n", {"agents.0.count=ten"}) ==
          "--set agents.0.count=ten: agents[0].count: expected a positive integer, got \"ten\"");
    CHECK(problems_of(head + "agents: [{type: probe}]\n", {"agents.3.count=1"}) ==
          "--set agents.3.count=1: s.yaml has no agents[3]");
    CHECK(problems_of(head + "agents: [{type: probe}]\n", {"seed"}) ==
          "--set seed: expected key=value (e.g. agents.0.count=50)");
}

TEST_CASE("agents get drawn parameters and the peers their topology gives", "[scenario]") {
    const std::string yaml =
        head +
        "agents:\n"
        "  - {name: hub, type: probe, count: 2, params: {s: centre}}\n"
        "  - {name: r, type: probe, count: 4, knows: ring,\n"
        "     params: {x: {uniform: [2, 3]}, n: {randint: [1, 6]}, s: {choice: [a, b]}}}\n"
        "  - {name: k, type: probe, count: 6, knows: {random: 2}}\n"
        "  - {name: st, type: probe, count: 2, knows: {star: hub}}\n"
        "  - {name: e, type: probe, count: 1, knows: {agents: [r/3, hub/0]}}\n"
        "  - {name: a, type: probe, count: 3, knows: all}\n"
        "record:\n"
        "  - {agents: hub, observe: [s, knows], to: hub.csv}\n"
        "  - {agents: r, observe: [x, n, s, knows], to: r.csv}\n"
        "  - {agents: k, observe: [knows], to: k.csv}\n"
        "  - {agents: st, observe: [knows], to: st.csv}\n"
        "  - {agents: e, observe: [knows], to: e.csv}\n"
        "  - {agents: a, observe: [knows], to: a.csv}\n"
        "  - {agents: r, observe: [ticks], reduce: sum, to: ticks.jsonl}\n";
    auto out = run(yaml);
    // Ids: hub 0-1, r 2-5, k 6-11, st 12-13, e 14, a 15-17.
    CHECK(column_at(out["hub.csv"], "0", 2) == std::vector<std::string>{"centre", "centre"});
    CHECK(column_at(out["r.csv"], "0", 5) == std::vector<std::string>{"5 3", "2 4", "3 5", "4 2"});
    for (const auto& x : column_at(out["r.csv"], "0", 2)) {
        CHECK(std::stod(x) >= 2);
        CHECK(std::stod(x) < 3);
    }
    for (const auto& n : column_at(out["r.csv"], "0", 3)) {
        CHECK(std::stoi(n) >= 1);
        CHECK(std::stoi(n) <= 6);
    }
    for (const auto& s : column_at(out["r.csv"], "0", 4))
        CHECK((s == "a" || s == "b"));
    auto random_peers = column_at(out["k.csv"], "0", 2);
    REQUIRE(random_peers.size() == 6);
    for (std::size_t i = 0; i < 6; ++i) {
        std::istringstream ids(random_peers[i]);
        std::set<int> seen;
        for (int id; ids >> id;) {
            CHECK(id >= 6);
            CHECK(id <= 11);
            CHECK(id != static_cast<int>(6 + i));  // never itself
            seen.insert(id);
        }
        CHECK(seen.size() == 2);
    }
    CHECK(column_at(out["st.csv"], "0", 2) == std::vector<std::string>{"0 1", "0 1"});
    CHECK(column_at(out["e.csv"], "0", 2) == std::vector<std::string>{"5 0"});
    CHECK(column_at(out["a.csv"], "0", 2) == std::vector<std::string>{"16 17", "15 17", "15 16"});
    // Four agents tick once per step from t=1: the sum at t=10 is 40.
    CHECK(out["ticks.jsonl"].find("{\"time\": 10, \"sum_ticks\": 40}") != std::string::npos);

    // The same seed gives the same run; another seed other draws.
    CHECK(run(yaml) == out);
    CHECK(run(yaml, 2)["r.csv"] != out["r.csv"]);
}

TEST_CASE("every: change records an agent only when its values changed", "[scenario]") {
    auto out = run(head +
                   "agents:\n  - {type: probe, count: 2, params: {x: 1.5}}\n"
                   "record:\n  - {agents: probe, observe: [x], every: change, to: x.csv}\n"
                   "  - {agents: probe, observe: [x, ticks], to: all.jsonl}\n");
    CHECK(out["x.csv"] == "time,agent,x\n0,probe/0,1.5\n0,probe/1,1.5\n");
    CHECK(out["all.jsonl"].find(
              "{\"time\": 3, \"agent\": \"probe/1\", \"x\": 1.5, \"ticks\": 3}\n") !=
          std::string::npos);
}

TEST_CASE("a scenario with mistakes the schema cannot see fails before it runs", "[scenario]") {
    sim_test::temp_dir dir;
    sim::run_options o;
    o.out_dir = dir.file("out");
    auto unknown = sim::parse_scenario(head + "agents:\n  - {type: probee, count: 2}\n", "s.yaml");
    CHECK_THROWS_WITH(sim::run_scenario(unknown, probe_types(), o),
                      "s.yaml:6:5: agents[0].type: unknown agent type \"probee\" (known: probe)");
    auto bad_param =
        sim::parse_scenario(head + "agents:\n  - {type: probe, params: {n: many}}\n", "s.yaml");
    CHECK_THROWS_WITH(
        sim::run_scenario(bad_param, probe_types(), o),
        Catch::StartsWith("s.yaml:6:5: agents[0]: cannot make an agent of type \"probe\": ") &&
            Catch::Contains("'n'"));
    auto bad_observable = sim::parse_scenario(
        head + "agents: [{type: probe}]\nrecord:\n  - {agents: probe, observe: [y], to: y.csv}\n",
        "s.yaml");
    CHECK_THROWS_WITH(
        sim::run_scenario(bad_observable, probe_types(), o),
        "s.yaml:7:5: record[0].observe: \"y\" is not an observable of probe (it has: x, n, s, "
        "knows, ticks)");
}

TEST_CASE("agents in several containers stepped together", "[scenario]") {
    auto out =
        run("seed: 3\n"
            "clock: {mode: virtual, until: 5}\n"  // event-driven: no step size
            "containers: [{name: one, codec: msgpack}, {name: two, codec: msgpack}]\n"
            "agents:\n"
            "  - {name: a, type: probe, count: 3, container: one, knows: all}\n"
            "  - {name: b, type: probe, count: 3, container: two, knows: {star: a}}\n"
            "record:\n"
            "  - {agents: b, observe: [knows, ticks], to: b.csv}\n");
    // b's agents live in container two with ids 0-2 and know a's, ids 0-2 of container one.
    CHECK(column_at(out["b.csv"], "5", 2) == std::vector<std::string>{"0 1 2", "0 1 2", "0 1 2"});
    CHECK(column_at(out["b.csv"], "5", 3) == std::vector<std::string>{"5", "5", "5"});
}

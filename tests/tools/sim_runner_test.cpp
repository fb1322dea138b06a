// sim-runner, run as a separate process: the bundled scenarios and their expected recordings,
// errors in scenario files, overrides, and Ctrl-C during a run.

#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sim/codec/json_codec.hpp>
#include <sim/core/asio.hpp>

#include "support/child.hpp"
#include "support/net.hpp"
#include "support/process.hpp"

namespace fs = std::filesystem;
using sim_test::run_process;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

sim_test::process_result sim_runner(std::vector<std::string> args) {
    args.insert(args.begin(), SIM_RUNNER_EXE);
    return run_process(args, "");
}

std::string scenario_file(const std::string& name) {
    return std::string(SIM_SOURCE_DIR) + "/scenarios/" + name;
}

}  // namespace

TEST_CASE("each bundled scenario runs and its recordings match the expected ones",
          "[tools][sim-runner]") {
    // scenarios/expected/<name>/ holds the recordings of scenarios/<name>.yaml; distributed.yaml
    // is smart-grid.yaml in three processes and must record exactly what it records.
    const fs::path expected_root = std::string(SIM_SOURCE_DIR) + "/scenarios/expected";
    const std::map<std::string, std::string> expected_of = {{"hello", "hello"},
                                                            {"smart-grid", "smart-grid"},
                                                            {"gossip-100k", "gossip-100k"},
                                                            {"distributed", "smart-grid"},
                                                            {"smart-grid-realtime", "smart-grid"},
                                                            {"cosim-agents", "cosim-agents"},
                                                            {"cosim-market", "cosim-market"},
                                                            {"cosim-tariff", "cosim-tariff"}};
    std::vector<std::string> names;
    for (const auto& f : fs::directory_iterator(std::string(SIM_SOURCE_DIR) + "/scenarios")) {
        if (f.path().extension() == ".yaml") names.push_back(f.path().stem().string());
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        INFO(name);
        CHECK(expected_of.count(name) == 1);  // every bundled scenario is checked
    }
    for (const auto& name : names) {
        DYNAMIC_SECTION(name) {
            sim_test::temp_dir dir;
            auto r = sim_runner(
                {"run", scenario_file(name + ".yaml"), "--out", dir.file("out"), "--quiet"});
            INFO(r.err);
            REQUIRE(r.status == 0);
            CHECK(r.out.empty());  // --quiet
            if (expected_of.count(name) == 0) continue;
            for (const auto& f : fs::directory_iterator(expected_root / expected_of.at(name))) {
                INFO(f.path().filename());
                CHECK(slurp(fs::path(dir.file("out")) / f.path().filename()) == slurp(f.path()));
            }
            const std::string summary = slurp(fs::path(dir.file("out")) / "summary.json");
            CHECK(summary.find("\"interrupted\": false") != std::string::npos);
            if (name == "smart-grid-realtime") {
                // A day at 4,320 simulated seconds per second: 20 seconds of wall time.
                CHECK(summary.find("\"realtime\": true") != std::string::npos);
                auto at = summary.find("\"wall_seconds\": ");
                REQUIRE(at != std::string::npos);
                CHECK(std::stod(summary.substr(at + 16)) >= 19.9);
                CHECK(summary.find("\"max_lag_seconds\": ") != std::string::npos);
            }
            if (name == "hello") {
                CHECK(summary.find("\"steps\": 11,") != std::string::npos);
                CHECK(summary.find("\"messages\": 20,") != std::string::npos);
            }
        }
    }
}

TEST_CASE("sim-runner validate names the file, line, column and key of each mistake",
          "[tools][sim-runner]") {
    sim_test::temp_dir dir;
    const std::string file = dir.file("typo.yaml");
    std::ofstream(file) << "seed: 1\n"
                           "clock: {mode: virtual, until: 10, step: 1}\n"
                           "containers:\n"
                           "  - {name: main}\n"
                           "agents:\n"
                           "  - {type: pinger, cuont: 2}\n"
                           "  - {type: pinger, name: b, count: ten}\n";
    auto r = sim_runner({"validate", file});
    CHECK(r.status == 2);
    CHECK(r.err == "error: " + file +
                       ":6:20: agents[0].cuont: unknown key (expected one of: name, type, count, "
                       "container, params, knows)\n"
                       "error: " +
                       file + ":7:36: agents[1].count: expected a positive integer, got \"ten\"\n");

    auto ok = sim_runner({"validate", scenario_file("hello.yaml")});
    CHECK(ok.status == 0);
    CHECK(ok.out.find("valid") != std::string::npos);
}

TEST_CASE("sim-runner run --set and --until change the run", "[tools][sim-runner]") {
    sim_test::temp_dir dir;
    auto r = sim_runner({"run", scenario_file("hello.yaml"), "--out", dir.file("out"), "--quiet",
                         "--set", "agents.0.count=3", "--set", "seed=5", "--until", "4"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    const std::string csv = slurp(fs::path(dir.file("out")) / "pings.csv");
    // Three agents that know both others, five steps (0..4): each sends two pings a second.
    CHECK(csv.find("4,ping/2,8,8,") != std::string::npos);
    CHECK(csv.find("\n5,") == std::string::npos);

    auto bad = sim_runner({"run", scenario_file("hello.yaml"), "--set", "agents.7.count=3"});
    CHECK(bad.status == 2);
    CHECK(bad.err.find("agents[7]") != std::string::npos);
}

TEST_CASE("Ctrl-C ends a run with complete recordings and exit status 130", "[tools][sim-runner]") {
    sim_test::temp_dir dir;
    const fs::path out = dir.file("out");
    sim_test::child_process p({SIM_RUNNER_EXE, "run", scenario_file("hello.yaml"), "--out",
                               out.string(), "--quiet", "--until", "1e12"});
    // Wait until the run is well under way: the recording has grown past its first steps.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    auto size = [&] {
        std::error_code ec;
        auto n = fs::file_size(out / "pings.csv", ec);
        return ec ? 0 : n;
    };
    while (size() < 4096 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    REQUIRE(size() >= 4096);
    ::kill(p.pid(), SIGINT);
    CHECK(p.wait() == 130);
    const std::string csv = slurp(out / "pings.csv");
    REQUIRE(!csv.empty());
    CHECK(csv.back() == '\n');
    // Every line complete: time, agent and three values; both agents of the last step present.
    std::istringstream lines(csv);
    std::string line;
    int rows = 0;
    while (std::getline(lines, line)) {
        CHECK(std::count(line.begin(), line.end(), ',') == 4);
        ++rows;
    }
    CHECK(rows % 2 == 1);  // the header and two rows per step
    CHECK(slurp(out / "summary.json").find("\"interrupted\": true") != std::string::npos);
}

TEST_CASE("a strict real-time run fails when a step starts later than max_lag",
          "[tools][sim-runner]") {
    sim_test::temp_dir dir;
    const std::string file = dir.file("strict.yaml");
    // A billion simulated seconds per wall second: every step is due at once, and soon late.
    std::ofstream(file) << "seed: 1\n"
                           "clock: {mode: realtime, factor: 1000000000, until: 100000, step: 1,\n"
                           "        strict: true, max_lag: 1ms}\n"
                           "containers: [{name: m}]\n"
                           "agents: [{type: pinger, count: 20, knows: all}]\n";
    auto r = sim_runner({"run", file, "--out", dir.file("out"), "--quiet"});
    CHECK(r.status == 1);
    CHECK(r.err.find("the run failed: real time: the step to t=") != std::string::npos);
    CHECK(r.err.find("s late (clock.max_lag is 0.001 s, clock.strict is true)") !=
          std::string::npos);
}

TEST_CASE("usage errors exit with status 2", "[tools][sim-runner]") {
    CHECK(sim_runner({"run"}).status == 2);
    CHECK(sim_runner({"run", scenario_file("hello.yaml"), "--seed", "x"}).status == 2);
    CHECK(sim_runner({"frobnicate"}).status == 2);
    CHECK(sim_runner({"--help"}).status == 0);
    sim_test::temp_dir dir;
    const std::string file = dir.file("t.yaml");
    std::ofstream(file) << "clock: {mode: virtual, until: 1}\ncontainers: [{name: m}]\n"
                           "agents: [{type: pinger}, {type: nosuch}]\n";
    auto r = sim_runner({"validate", file});
    CHECK(r.status == 2);
    CHECK(r.err.find(":3:26: agents[1].type: unknown agent type \"nosuch\" (known: ") !=
          std::string::npos);
}

TEST_CASE("a plugin that cannot be loaded is a clear error", "[tools][sim-runner]") {
    auto r = sim_runner({"types", "--plugin", "/nonexistent/libagents.so"});
    CHECK(r.status == 2);
    CHECK(r.err.find("error: cannot load agent plugin /nonexistent/libagents.so: ") == 0);
    // A shared library without the entry point.
    auto no_entry = sim_runner({"types", "--plugin", "/lib/x86_64-linux-gnu/libm.so.6"});
    CHECK(no_entry.status == 2);
    CHECK(no_entry.err.find("has no entry point: define it with SIM_AGENT_PLUGIN") !=
          std::string::npos);
}

namespace {

// Processes whose command line holds `word`.
std::vector<int> processes_with(const std::string& word) {
    std::vector<int> found;
    for (const auto& e : fs::directory_iterator("/proc")) {
        const std::string name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string cmd = slurp(e.path() / "cmdline");
        std::replace(cmd.begin(), cmd.end(), '\0', ' ');
        if (cmd.find(word) != std::string::npos) found.push_back(std::stoi(name));
    }
    return found;
}

// A scenario whose first container's spinner hangs it from t=5 for two minutes, beside a second
// container whose spinner never spins; `process` puts both in processes of their own.
void write_stuck_scenario(const fs::path& file, const std::string& name, bool process,
                          const fs::path& mark) {
    const char* where = process ? "true" : "false";
    std::ofstream(file) << "name: stuck\nseed: 1\n"
                           "clock: {mode: virtual, start: \"2026-01-01T00:00:00Z\", until: 1000, "
                           "step: 1}\n"
                           "containers:\n"
                        << "  - {name: " << name << ", process: " << where << "}\n"
                        << "  - {name: " << name << "-calm, process: " << where << "}\n"
                        << "agents:\n"
                           "  - {name: stuck, type: spinner, count: 1, container: "
                        << name << ", params: {at: 5, hold: 120, mark: \"" << mark.string()
                        << "\"}}\n"
                           "  - {name: calm, type: spinner, count: 1, container: "
                        << name
                        << "-calm, params: {at: 1.0e9, hold: 120}}\n"
                           "record:\n  - {agents: stuck, observe: [steps], to: steps.csv}\n";
}

// Waits (bounded) until the spinner hangs the step to 5, or the run has ended without it.
bool until_stuck(sim_test::child_process& p, const fs::path& mark) {
    sim_test::eventually(
        [&] { return fs::exists(mark) || p.wait(std::chrono::milliseconds(0)) >= 0; },
        std::chrono::seconds(30));
    return fs::exists(mark);
}

}  // namespace

TEST_CASE("a run whose container hangs ends at Ctrl-C or SIGTERM, with complete recordings",
          "[tools][sim-runner]") {
    // From t=5 the spinner keeps its container's thread busy for two minutes: the step to 5
    // waits on a container that cannot answer, longer than the step timeout (60 s). A stop must
    // abandon that wait, not sit it out, and leave no container process behind.
    const bool in_process = GENERATE(false, true);
    const int sig = in_process ? SIGTERM : SIGINT;
    CAPTURE(in_process, sig);
    sim_test::temp_dir dir;
    const std::string name = "stuck" + std::to_string(::getpid()) + (in_process ? "p" : "t");
    const fs::path file = dir.file("stuck.yaml");
    const fs::path mark = dir.file("spinning");
    write_stuck_scenario(file, name, in_process, mark);
    const fs::path out = dir.file("out");
    const fs::path err = dir.file("stderr");
    // The shell execs sim-runner: the pid is sim-runner's, its standard error goes to a file.
    sim_test::child_process p({"/bin/sh", "-c",
                               "exec \"$0\" run \"$1\" --out \"$2\" --plugin \"$3\" "
                               "2>\"$4\"",
                               SIM_RUNNER_EXE, file.string(), out.string(), SIM_STUCK_AGENTS,
                               err.string()});
    // The step to 5 hangs; the step to 4 is recorded (each step is flushed as it ends).
    REQUIRE(until_stuck(p, mark));
    ::kill(p.pid(), sig);
    // Well within the step timeout and the two minutes of spinning.
    REQUIRE(p.wait(std::chrono::seconds(20)) == 130);
    const std::string csv = slurp(out / "steps.csv");
    REQUIRE(!csv.empty());
    CHECK(csv.back() == '\n');
    CHECK(csv.find("\n5,") == std::string::npos);  // the step to 5 never ended
    CHECK(slurp(out / "summary.json").find("\"interrupted\": true") != std::string::npos);
    // Ended by abandoning the wait, not by the last-resort exit.
    const std::string said = slurp(err);
    CHECK_THAT(said, Catch::Contains("abandoning the waits on its containers"));
    CHECK_THAT(said, !Catch::Contains("did not end after the signal"));
    CHECK(processes_with("--name " + name).empty());
}

TEST_CASE("container processes end when their runner is killed", "[tools][sim-runner]") {
    sim_test::temp_dir dir;
    const std::string name = "lifeline" + std::to_string(::getpid());
    const fs::path file = dir.file("stuck.yaml");
    const fs::path mark = dir.file("spinning");
    write_stuck_scenario(file, name, true, mark);
    const fs::path out = dir.file("out");
    sim_test::child_process p({SIM_RUNNER_EXE, "run", file.string(), "--out", out.string(),
                               "--quiet", "--plugin", SIM_STUCK_AGENTS});
    REQUIRE(until_stuck(p, mark));
    REQUIRE(processes_with("--name " + name).size() == 2);
    ::kill(p.pid(), SIGKILL);  // no chance to stop its containers
    CHECK(p.wait() == 128 + SIGKILL);
    CHECK(sim_test::eventually([&] { return processes_with("--name " + name).empty(); },
                               std::chrono::seconds(10)));
    for (int pid : processes_with("--name " + name))
        ::kill(pid, SIGKILL);  // left behind by a broken lifeline: not by this test
}

TEST_CASE("a container process that cannot start fails the run with a clear error",
          "[tools][sim-runner]") {
    // Its address is taken: the container process says why and exits; the run must fail, not
    // wait for it.
    sim_test::temp_dir dir;
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor taken(
        io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    const auto port = taken.local_endpoint().port();
    const fs::path file = dir.file("taken.yaml");
    std::ofstream(file) << "name: taken\nseed: 1\n"
                           "clock: {mode: virtual, start: \"2026-01-01T00:00:00Z\", until: 10, "
                           "step: 1}\n"
                           "containers:\n  - {name: taken, process: true, address: "
                           "\"tcp://127.0.0.1:"
                        << port
                        << "\"}\n"
                           "agents:\n  - {type: pinger, count: 2, params: {period: 1}}\n";
    sim_test::child_process p({"/bin/sh", "-c",
                               "exec \"$0\" run \"$1\" --out \"$2\" --quiet 2>\"$3\"",
                               SIM_RUNNER_EXE, file.string(), dir.file("out"), dir.file("stderr")});
    REQUIRE(p.wait(std::chrono::seconds(20)) == 1);
    CHECK_THAT(slurp(dir.file("stderr")), Catch::Contains("container process taken did not start"));
}

namespace {

// A world of Python simulators (the standard-library one of the mosaik tests), an event-based
// one between time-based ones, as a scenario file.
std::string cosim_world(const std::string& extra_connection = "") {
    return std::string(
               "name: race\n"
               "mosaik:\n"
               "  until: 3\n"
               "  sim_config:\n"
               "    Generic: {cmd: \"") +
           SIM_PYTHON + " " + SIM_GENERIC_SIM_PY +
           " %(addr)s\"}\n"
           "  simulators:\n"
           "    - {sid: A, sim: Generic}\n"
           "    - {sid: B, sim: Generic, params: {step_type: event-based}}\n"
           "    - {sid: C, sim: Generic}\n"
           "    - {sid: D, sim: Generic}\n"
           "  entities:\n"
           "    - {sim: A, model: A}\n"
           "    - {sim: B, model: A}\n"
           "    - {sim: C, model: A}\n"
           "    - {sim: D, model: A}\n"
           "  connections:\n"
           "    - {from: C.0, to: B.0, attrs: [[val_out, val_in]]}\n"
           "    - {from: A.0, to: B.0, attrs: [[val_out, val_in]]}\n"
           "    - {from: B.0, to: D.0, attrs: [val_out, [val_out, val_in]]}\n" +
           extra_connection;
}

}  // namespace

TEST_CASE("sim-runner is the mosaik master of a mosaik: section and writes its execution graph",
          "[tools][sim-runner][cosim]") {
    sim_test::temp_dir dir;
    const std::string file = dir.file("race.yaml");
    std::ofstream(file) << cosim_world();
    auto v = sim_runner({"validate", file});
    CHECK(v.status == 0);
    CHECK(v.out ==
          file + ": valid (a mosaik world of 4 simulators, 4 entity sets, 3 connections)\n");

    const std::string graph = dir.file("graph.json");
    auto r =
        sim_runner({"run", file, "--out", dir.file("out"), "--quiet", "--execution-graph", graph});
    INFO(r.err);
    REQUIRE(r.status == 0);
    const sim::value g = sim::json_codec().decode(slurp(graph));
    CHECK(g["format"] == sim::value("mosaik-execution-graph"));
    CHECK(g["nodes"].as_array().size() == 12);  // four simulators, three steps each
    std::set<std::string> edges;
    for (const auto& e : g["edges"].as_array())
        edges.insert(e[0].as_string() + " " + e[1].as_string());
    CHECK(edges.contains("A~2 B~2"));
    CHECK(edges.contains("B~2 D~2"));
    CHECK(edges.size() == 15);
    const std::string summary = slurp(fs::path(dir.file("out")) / "summary.json");
    CHECK(summary.find("\"steps\": 12") != std::string::npos);
}

TEST_CASE("plugin: simulators run in the master's process, beside simulator processes",
          "[tools][sim-runner][cosim]") {
    // The same ExampleSim twice, A in the master's process and B in a process of its own; B's
    // delta is A's val, a trigger input.
    sim_test::temp_dir dir;
    const std::string file = dir.file("mixed.yaml");
    std::ofstream(file)
        << "name: mixed\n"
           "mosaik:\n"
           "  until: 4\n"
           "  sim_config:\n"
           "    InProcess: {plugin: " SIM_EXAMPLE_SIMS_PLUGIN
           ", simulator: ExampleSim}\n"
           "    Process: {cmd: \"" SIM_EXAMPLE_SIM_EXE
           " %(addr)s\"}\n"
           "  simulators: [{sid: A, sim: InProcess}, {sid: B, sim: Process}]\n"
           "  entities:\n"
           "    - {sim: A, model: ExampleModel, params: {init_val: 2}}\n"
           "    - {sim: B, model: ExampleModel, params: {init_val: 0}}\n"
           "  connections: [{from: A.Model_0, to: B.Model_0, attrs: [[val, delta]]}]\n";
    const std::string graph = dir.file("graph.json");
    auto r = sim_runner({"run", file, "--out", dir.file("out"), "--execution-graph", graph});
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("mixed: steps per simulator: A 4, B 4") != std::string::npos);
    const sim::value g = sim::json_codec().decode(slurp(graph));
    REQUIRE(g["nodes"].as_array().size() == 8);
    for (const auto& n : g["nodes"].as_array()) {
        if (n["sid"].as_string() != "B" || n["time"][0] != sim::value(2)) continue;
        // A's val after its step at 2: 2 + 1 + 1 + 1.
        CHECK(n["inputs"] ==
              sim::json_codec().decode(R"({"Model_0": {"delta": {"A.Model_0": 5.0}}})"));
    }
    const std::string summary = slurp(fs::path(dir.file("out")) / "summary.json");
    CHECK(summary.find("\"A\": {\"steps\": 4}") != std::string::npos);

    // A missing library, a simulator the library does not have.
    const std::string missing = dir.file("missing.yaml");
    std::ofstream(missing) << "mosaik:\n"
                              "  until: 4\n"
                              "  sim_config:\n"
                              "    S: {plugin: no-such-lib.so}\n"
                              "  simulators: [{sid: A, sim: S}]\n";
    r = sim_runner({"run", missing, "--out", dir.file("o1"), "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err.find(missing + ":4:") != std::string::npos);
    CHECK(r.err.find("mosaik.sim_config.S: cannot load simulator plugin") != std::string::npos);
    CHECK(r.err.find("no-such-lib.so") != std::string::npos);
    const std::string unknown = dir.file("unknown.yaml");
    std::ofstream(unknown) << "mosaik:\n"
                              "  until: 4\n"
                              "  sim_config:\n"
                              "    S: {plugin: " SIM_EXAMPLE_SIMS_PLUGIN
                              ", simulator: PVSim}\n"
                              "  simulators: [{sid: A, sim: S}]\n";
    r = sim_runner({"run", unknown, "--out", dir.file("o2"), "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err.find("mosaik.sim_config.S: no simulator type \"PVSim\" (there are: ExampleSim)") !=
          std::string::npos);
}

TEST_CASE("a mosaik: section's mistakes name file, line and key, or the simulator",
          "[tools][sim-runner][cosim]") {
    sim_test::temp_dir dir;
    const std::string typo = dir.file("typo.yaml");
    std::ofstream(typo) << "mosaik:\n"
                           "  until: 3\n"
                           "  sim_config: {S: {cmd: \"true %(addr)s\"}}\n"
                           "  simulators: [{sid: A, sim: S, gruop: g}]\n";
    auto r = sim_runner({"validate", typo});
    CHECK(r.status == 2);
    CHECK(r.err == "error: " + typo +
                       ":4:33: mosaik.simulators[0].gruop: unknown key (expected one of: sid, sim, "
                       "group, params)\n");

    const std::string refs = dir.file("refs.yaml");
    std::ofstream(refs) << "mosaik:\n"
                           "  until: 3\n"
                           "  sim_config: {S: {cmd: \"true %(addr)s\"}}\n"
                           "  simulators: [{sid: A, sim: T}]\n"
                           "  connections: [{from: X.0, to: A.0, attrs: [x]}]\n";
    r = sim_runner({"validate", refs});
    CHECK(r.status == 2);
    CHECK(r.err.find(refs + ":4:") != std::string::npos);
    CHECK(r.err.find(": mosaik.simulators[0].sim: no simulator \"T\" in sim_config") !=
          std::string::npos);
    CHECK(r.err.find("mosaik.connections[0].from: \"X.0\" is neither an entity set nor a full "
                     "entity id") != std::string::npos);

    const std::string bare = dir.file("bare.yaml");
    std::ofstream(bare) << "mosaik:\n"
                           "  until: 3\n"
                           "  sim_config: {S: {cmd: \"true %(addr)s\"}}\n"
                           "  simulators: [{sid: A, sim: S}, {sid: B, sim: S}]\n"
                           "  connections:\n"
                           "    - {from: A.0, to: B.0}\n"
                           "    - {from: A.0, to: B.0, async_requests: true}\n";
    r = sim_runner({"validate", bare});
    CHECK(r.status == 2);
    CHECK(r.err == "error: " + bare +
                       ":6:7: mosaik.connections[0].attrs: a connection without async_requests "
                       "needs at least one attribute\n");

    // Found while setting the world up: a model's attribute, a cycle without delay.
    const std::string attr = dir.file("attr.yaml");
    std::string world = cosim_world();
    world.replace(world.find("[[val_out, val_in]]"), 19, "[[val_ot, val_in]]");
    std::ofstream(attr) << world;
    r = sim_runner({"run", attr, "--out", dir.file("o1"), "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err.find("mosaik.connections[0]: C.0 has no output \"val_ot\"") != std::string::npos);

    const std::string cycle = dir.file("cycle.yaml");
    std::ofstream(cycle) << cosim_world("    - {from: D.0, to: A.0, attrs: [[val_out, val_in]]}\n");
    r = sim_runner({"run", cycle, "--out", dir.file("o2"), "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err.find("the dataflow has a cycle without delay: A -> B -> D -> A") !=
          std::string::npos);
}

namespace {

// Four ExampleSim sources (val = 1, 2, 3, 4, growing by 1 a step) and two ExampleSim sinks
// (their delta sums what arrives), in the master's process; `pairing` joins the sets.
std::string paired_world(const std::string& pairing, const std::string& record = "") {
    return "name: pairs\n"
           "seed: 3\n"
           "mosaik:\n"
           "  until: 3\n"
           "  sim_config: {Example: {plugin: " SIM_EXAMPLE_SIMS_PLUGIN
           ", simulator: ExampleSim}}\n"
           "  simulators: [{sid: Src, sim: Example}, {sid: Dst, sim: Example, params: "
           "{eid_prefix: d}}]\n"
           "  entities:\n"
           "    - {name: one, sim: Src, model: ExampleModel, params: {init_val: 1}}\n"
           "    - {name: two, sim: Src, model: ExampleModel, params: {init_val: 2}}\n"
           "    - {name: more, sim: Src, model: ExampleModel, count: 2, params: {init_val: 3}}\n"
           "    - {name: sinks, sim: Dst, model: ExampleModel, count: 2, params: {init_val: 0}}\n"
           "  connections:\n"
           "    - {from: one, to: sinks, attrs: [[val, delta]]}\n"
           "    - {from: more, to: sinks, attrs: [[val, delta]]" +
           pairing + "}\n" + record;
}

}  // namespace

TEST_CASE("entity sets connect as mosaik's helpers pair them, and their attributes are recorded",
          "[tools][sim-runner][cosim]") {
    sim_test::temp_dir dir;
    const std::string record =
        "record:\n"
        "  - {entities: sinks, observe: [delta, val], to: sinks.csv}\n"
        "  - {entities: more, observe: [val], reduce: sum, to: more.csv}\n";
    // one -> both sinks (one to many), more -> sinks zipped: each sink sums `one` and one of
    // `more`.
    const std::string zip = dir.file("zip.yaml");
    std::ofstream(zip) << paired_world(", pairing: zip", record);
    auto r = sim_runner({"run", zip, "--out", dir.file("zip"), "--quiet"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    // After their steps at t the sources' val are 2 + t and 4 + t; a sink adds their sum.
    CHECK(slurp(fs::path(dir.file("zip")) / "sinks.csv") ==
          "time,entity,delta,val\n"
          "0,Dst.d0,6.0,6.0\n0,Dst.d1,6.0,6.0\n"
          "1,Dst.d0,8.0,14.0\n1,Dst.d1,8.0,14.0\n"
          "2,Dst.d0,10.0,24.0\n2,Dst.d1,10.0,24.0\n");
    CHECK(slurp(fs::path(dir.file("zip")) / "more.csv") == "time,sum_val\n0,8.0\n1,10.0\n2,12.0\n");

    // Random, evenly, from the seed: each sink gets one of `more`, so the same sums, and the
    // same file on every run.
    const std::string random = dir.file("random.yaml");
    std::ofstream(random) << paired_world(", pairing: random", record);
    r = sim_runner({"run", random, "--out", dir.file("random"), "--quiet"});
    REQUIRE(r.status == 0);
    CHECK(slurp(fs::path(dir.file("random")) / "sinks.csv") ==
          slurp(fs::path(dir.file("zip")) / "sinks.csv"));
    // Not evenly, at most one each: the same again; at most one each for three is impossible.
    std::ofstream(random) << paired_world(", pairing: random, evenly: false, max_connects: 1");
    r = sim_runner({"run", random, "--out", dir.file("capped"), "--quiet"});
    CHECK(r.status == 0);

    // Mistakes: random's options on another pairing, max_connects with evenly, two sets of
    // two without a pairing, zip of unequal sets, an unknown set or attribute in a
    // recording, agents in a mosaik world's recording.
    const std::string options = dir.file("options.yaml");
    std::ofstream(options) << paired_world(", pairing: zip, evenly: false");
    r = sim_runner({"validate", options});
    CHECK(r.status == 2);
    CHECK(r.err.find("mosaik.connections[1].evenly: only pairing: random takes evenly and "
                     "max_connects") != std::string::npos);
    std::ofstream(options) << paired_world(", pairing: random, max_connects: 2");
    r = sim_runner({"validate", options});
    CHECK(r.status == 2);
    CHECK(r.err.find("mosaik.connections[1].max_connects: max_connects applies with evenly: "
                     "false") != std::string::npos);
    const std::string bad = dir.file("bad.yaml");
    std::ofstream(bad) << paired_world("");
    r = sim_runner({"run", bad, "--out", dir.file("o1"), "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err.find(bad + ":14:7: mosaik.connections[1]: more (2 entities) to sinks (2): say "
                           "how to pair them (pairing: all, zip or random)") != std::string::npos);
    std::string world = paired_world(", pairing: zip");
    world.replace(world.find("{from: more"), 11, "{from: two");
    std::ofstream(bad) << world;
    r = sim_runner({"run", bad, "--out", dir.file("o2"), "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err.find("pairing: zip needs sets of one size (two has 1, sinks has 2)") !=
          std::string::npos);
    std::ofstream(bad) << paired_world(", pairing: zip",
                                       "record:\n"
                                       "  - {entities: sink, observe: [val], to: a.csv}\n"
                                       "  - {agents: sinks, observe: [val], to: b.csv}\n");
    r = sim_runner({"validate", bad});
    CHECK(r.status == 2);
    CHECK(r.err.find(bad + ":16:16: record[0].entities: no entity set \"sink\" in "
                           "mosaik.entities (sets: one, two, more, sinks)") != std::string::npos);
    CHECK(r.err.find(bad + ":17:14: record[1].agents: a mosaik world records entities") !=
          std::string::npos);
    std::ofstream(bad) << paired_world(", pairing: zip",
                                       "record: [{entities: sinks, observe: [vol], to: a.csv}]\n");
    r = sim_runner({"run", bad, "--out", dir.file("o3"), "--quiet"});
    CHECK(r.status == 2);
    CHECK(
        r.err.find(bad + ":15:10: record[0]: Dst.d0 (model ExampleModel) has no output \"vol\"") !=
        std::string::npos);
}

TEST_CASE("extra methods and World.get_data before the run are reachable from the scenario",
          "[tools][sim-runner][cosim]") {
    sim_test::temp_dir dir;
    const std::string file = dir.file("calls.yaml");
    const std::string calls =
        "  calls: [{sim: A, method: method_a, args: [7]}]\n"
        "record:\n"
        "  - {entities: d, observe: [val_out], initial: true, to: d.csv}\n";
    std::string world = cosim_world() + calls;
    world.replace(world.find("    - {sim: D, model: A}"), 24, "    - {name: d, sim: D, model: A}");
    std::ofstream(file) << world;
    auto r = sim_runner({"run", file, "--out", dir.file("out"), "--quiet"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("A.method_a answered \"method_a(7)\"") != std::string::npos);
    // The first row is what get_data answered before the run (no time: val_out is null then).
    CHECK(slurp(fs::path(dir.file("out")) / "d.csv") ==
          "time,entity,val_out\n,D.0,\n0,D.0,0\n1,D.0,1\n2,D.0,2\n");

    world.replace(world.find("method: method_a"), 16, "method: method_b");
    std::ofstream(file) << world;
    r = sim_runner({"run", file, "--out", dir.file("out2"), "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err.find(":20:11: mosaik.calls[0]: simulator A has no extra method \"method_b\" (it "
                     "has: method_a)") != std::string::npos);
}

TEST_CASE("container: simulators are libsim containers of agents in the master's process",
          "[tools][sim-runner][cosim]") {
    // Three of sim-runner's households in a container, metered by ExampleSim (delta: the sum of
    // their grid_kw at that step).
    sim_test::temp_dir dir;
    auto world = [](const std::string& type) {
        return "name: homes\n"
               "seed: 5\n"
               "mosaik:\n"
               "  time_resolution: 900\n"
               "  until: 4\n"
               "  sim_config:\n"
               "    Homes: {container: {codec: json, models: {" +
               type +
               ": {params: [pv_kw, noise_seed], attrs: [pv_kw, grid_kw]}}}}\n"
               "    Meter: {plugin: " SIM_EXAMPLE_SIMS_PLUGIN
               ", simulator: ExampleSim}\n"
               "  simulators:\n"
               "    - {sid: Homes-0, sim: Homes, params: {start_date: "
               "\"2026-06-01T10:00:00+00:00\"}}\n"
               "    - {sid: M, sim: Meter}\n"
               "  entities:\n"
               "    - {name: homes, sim: Homes-0, model: " +
               type +
               ", count: 3, params: {pv_kw: 4.0, noise_seed: 1}}\n"
               "    - {name: meter, sim: M, model: ExampleModel, params: {init_val: 0}}\n"
               "  connections: [{from: homes, to: meter, attrs: [[grid_kw, delta]]}]\n"
               "record:\n"
               "  - {entities: homes, observe: [grid_kw], reduce: sum, to: homes.csv}\n"
               "  - {entities: meter, observe: [delta], to: meter.csv}\n";
    };
    const std::string file = dir.file("homes.yaml");
    std::ofstream(file) << world("household");
    auto r = sim_runner({"run", file, "--out", dir.file("out"), "--quiet"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    const std::string homes = slurp(fs::path(dir.file("out")) / "homes.csv");
    const std::string meter = slurp(fs::path(dir.file("out")) / "meter.csv");
    CHECK(homes.find("time,sum_grid_kw\n0,") == 0);
    // The meter's delta at each step is the households' sum then.
    std::istringstream h(homes), m(meter);
    std::string hl, ml;
    std::getline(h, hl);
    std::getline(m, ml);
    int rows = 0;
    while (std::getline(h, hl) && std::getline(m, ml)) {
        CHECK(std::stod(hl.substr(hl.find(',') + 1)) ==
              Approx(std::stod(ml.substr(ml.rfind(',') + 1))));
        ++rows;
    }
    CHECK(rows == 4);
    // The same again (virtual time, the same seed).
    r = sim_runner({"run", file, "--out", dir.file("again"), "--quiet"});
    REQUIRE(r.status == 0);
    CHECK(slurp(fs::path(dir.file("again")) / "homes.csv") == homes);

    std::ofstream(file) << world("house");
    r = sim_runner({"run", file, "--out", dir.file("bad"), "--quiet"});
    CHECK(r.status == 2);
    CHECK(r.err.find(file + ":7:12: mosaik.sim_config.Homes: container: no agent type \"house\" "
                            "(there are: aggregator, household, pinger, rumour)") !=
          std::string::npos);
}

namespace {

// smart-grid.yaml's agents in two containers (the aggregator and half the households in
// market, the other half in homes), each container a simulator of a mosaik world whose meter
// (ExampleSim) sums the households' grid_kw. `extra` goes into the mosaik: section's start.
std::string market_world(const std::string& extra = "") {
    return "name: market\n"
           "seed: 42\n"
           "containers:\n"
           "  - {name: market}\n"
           "  - {name: homes}\n"
           "agents:\n"
           "  - {type: aggregator, container: market, params: {slope: 0.0003}}\n"
           "  - {type: household, count: 20, container: [market, homes],\n"
           "     params: {pv_kw: {uniform: [2.0, 8.0]}, base_load_kw: {uniform: [0.3, 1.2]},\n"
           "              noise_seed: {randint: [0, 1000000000]}},\n"
           "     knows: {star: aggregator}}\n"
           "mosaik:\n" +
           extra +
           "  time_resolution: 900\n"
           "  until: 96\n"
           "  sim_config:\n"
           "    Market: {container: {name: market, models: {aggregator: {attrs: [balance_kw, "
           "bids]}, household: {attrs: [grid_kw, revenue]}}}}\n"
           "    Homes: {container: {name: homes, models: {household: {attrs: [grid_kw, "
           "revenue]}}}}\n"
           "    Meter: {plugin: " SIM_EXAMPLE_SIMS_PLUGIN
           ", simulator: ExampleSim}\n"
           "  simulators:\n"
           "    - {sid: Market-0, sim: Market, params: {start_date: \"2026-06-01T00:00:00Z\"}}\n"
           "    - {sid: Homes-0, sim: Homes, params: {start_date: \"2026-06-01T00:00:00Z\"}}\n"
           "    - {sid: M, sim: Meter}\n"
           "  entities:\n"
           "    - {name: agg, sim: Market-0, model: aggregator}\n"
           "    - {name: near, sim: Market-0, model: household, count: 10}\n"
           "    - {name: far, sim: Homes-0, model: household, count: 10}\n"
           "    - {name: meter, sim: M, model: ExampleModel, params: {init_val: 0}}\n"
           "  connections:\n"
           "    - {from: near, to: meter, attrs: [[grid_kw, delta]]}\n"
           "    - {from: far, to: meter, attrs: [[grid_kw, delta]]}\n"
           "record:\n"
           "  - {entities: agg, observe: [balance_kw, bids], to: agg.csv}\n"
           "  - {entities: meter, observe: [delta], to: meter.csv}\n"
           "  - {entities: far, observe: [revenue], reduce: sum, to: far.csv}\n";
}

// The last field of each row after the header.
std::vector<double> last_column(const std::string& csv) {
    std::istringstream in(csv);
    std::string line;
    std::getline(in, line);
    std::vector<double> out;
    while (std::getline(in, line))
        out.push_back(std::stod(line.substr(line.rfind(',') + 1)));
    return out;
}

}  // namespace

TEST_CASE("a mosaik world's containers hold the agents of agents:, as a run of their own would",
          "[tools][sim-runner][cosim]") {
    sim_test::temp_dir dir;
    const std::string file = dir.file("market.yaml");
    std::ofstream(file) << market_world();
    auto r = sim_runner({"run", file, "--out", dir.file("out"), "--quiet"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    const fs::path out = dir.file("out");

    // The same agents with the same seeded params, on the plain runner's clock: their grid_kw
    // summed at each step is what the meter received from all twenty entities then.
    std::string plain = market_world();
    plain = plain.substr(0, plain.find("mosaik:\n"));
    plain +=
        "clock: {mode: virtual, start: \"2026-06-01T00:00:00Z\", until: 85500, step: 900}\n"
        "record: [{agents: household, observe: [grid_kw], reduce: sum, to: h.csv}]\n";
    const std::string plain_file = dir.file("plain.yaml");
    std::ofstream(plain_file) << plain;
    r = sim_runner({"run", plain_file, "--out", dir.file("plain"), "--quiet"});
    REQUIRE(r.status == 0);
    const auto expected = last_column(slurp(fs::path(dir.file("plain")) / "h.csv"));
    const auto metered = last_column(slurp(out / "meter.csv"));
    REQUIRE(metered.size() == 96);
    REQUIRE(expected.size() == metered.size());
    for (std::size_t i = 0; i < metered.size(); ++i)
        CHECK(metered[i] == Approx(expected[i]).margin(1e-9));
    CHECK(std::any_of(metered.begin(), metered.end(), [](double kw) { return kw != 0; }));

    // Households of its own container bid to the aggregator during its step (ten bids a
    // step), those of homes across containers, and are paid (revenue).
    const std::string agg = slurp(out / "agg.csv");
    CHECK(agg.find("time,entity,balance_kw,bids\n0,Market-0.0,0.0,0\n") == 0);
    CHECK(agg.find("\n900,Market-0.0,") != std::string::npos);
    const auto bids = last_column(agg);
    CHECK(std::count(bids.begin() + 1, bids.end(), 10.0) == 95);
    CHECK(last_column(slurp(out / "far.csv")).back() != 0);
    const std::string summary = slurp(out / "summary.json");
    CHECK(summary.find("\"agents\": 21,") != std::string::npos);
    CHECK(summary.find("\"messages\": 1900,") != std::string::npos);

    // The same file and seed: the same bytes.
    r = sim_runner({"run", file, "--out", dir.file("again"), "--quiet"});
    REQUIRE(r.status == 0);
    for (const char* f : {"agg.csv", "meter.csv", "far.csv"})
        CHECK(slurp(fs::path(dir.file("again")) / f) == slurp(out / f));
}

TEST_CASE("a mosaik world's containers: mistakes name file, line and key",
          "[tools][sim-runner][cosim]") {
    sim_test::temp_dir dir;
    const std::string file = dir.file("bad.yaml");
    auto check = [&](std::string world, const std::string& from, const std::string& to,
                     const std::string& message) {
        if (!from.empty()) {
            REQUIRE(world.find(from) != std::string::npos);
            world.replace(world.find(from), from.size(), to);
        }
        std::ofstream(file) << world;
        auto r = sim_runner({"validate", file});
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find(file + ":" + message) != std::string::npos);
    };
    const std::string w = market_world();
    check(w, "{name: homes, models", "{name: home, models",
          "17:31: mosaik.sim_config.Homes.container.name: no container \"home\" (containers: "
          "homes, market)");
    check(w, "{name: homes, models", "{name: market, models",
          "17:31: mosaik.sim_config.Homes.container.name: container market is already simulator "
          "Market");
    check(w, "{name: homes, models: {household", "{name: homes, models: {aggregator",
          "17:47: mosaik.sim_config.Homes.container.models.aggregator: no agent group "
          "\"aggregator\" in container homes");
    check(w, "{name: homes, models", "{name: homes, codec: json, models",
          "17:45: mosaik.sim_config.Homes.container.codec: the container's codec is set in "
          "containers: (json)");
    check(w, "  - {name: homes}\n", "  - {name: homes, process: true}\n",
          "5:28: containers[1].process: a mosaik world's containers run in sim-runner's process");
    check(w, "  - {name: homes}\n", "  - {name: homes}\n  - {name: idle}\n",
          "6:5: containers[2]: container idle is in no simulator: add one to mosaik.sim_config");
    check(w, "    - {sid: M, sim: Meter}\n",
          "    - {sid: M, sim: Meter}\n    - {sid: Homes-1, sim: Homes}\n",
          "17:12: mosaik.sim_config.Homes: container homes is one simulator: start it exactly "
          "once in mosaik.simulators (started 2 times)");
    check(w, "model: household, count: 10}", "model: household, count: 11}",
          "25:60: mosaik.entities[1].count: container market holds 10 agents of household, and "
          "11 are asked for");
    check(w, "model: household, count: 10}", "model: household, count: 10, params: {step: 1}}",
          "25:72: mosaik.entities[1].params: the agents of container market are made with the "
          "params of agents: (drop these)");
    check(market_world("  clock: {mode: virtual}\n"), "", "", "13:3: mosaik.clock: unknown key");
    std::string clocked = market_world();
    clocked.insert(clocked.find("mosaik:\n"), "clock: {mode: virtual, until: 1d}\n");
    check(clocked, "", "",
          "12:8: clock: a mosaik world runs on mosaik.until and mosaik.time_resolution");
    std::string grouped = market_world();
    grouped += "  - {agents: household, observe: [grid_kw], to: h.csv}\n";
    check(grouped, "", "", "35:14: record[3].agents: a mosaik world records entities");
    std::string homeless = market_world();
    homeless.erase(homeless.find("containers:\n"),
                   homeless.find("agents:\n") - homeless.find("containers:\n"));
    check(homeless, "", "", "4:3: agents: agents need containers: to live in");
}

TEST_CASE("python: simulators run through mosaik-api-v3's start_simulation in a process",
          "[tools][sim-runner][cosim]") {
    // tests/mosaik holds a stand-in for the package mosaik-api-v3 and a simulator written
    // against it (py_counter.Counter).
    sim_test::temp_dir dir;
    const std::string here = fs::path(SIM_GENERIC_SIM_PY).parent_path().string();
    auto world = [&](const std::string& config) {
        return "name: py\n"
               "mosaik:\n"
               "  until: 5\n"
               "  sim_config:\n"
               "    Counter: " +
               config +
               "\n"
               "  simulators: [{sid: C, sim: Counter, params: {step_size: 2}}]\n"
               "  entities: [{name: counts, sim: C, model: Count}]\n"
               "record: [{entities: counts, observe: [n], to: n.csv}]\n";
    };
    const std::string file = dir.file("py.yaml");
    std::ofstream(file) << world("{python: \"py_counter:Counter\", env: {PYTHONPATH: \"" + here +
                                 "\"}}");
    auto r = sim_runner({"run", file, "--out", dir.file("out"), "--quiet"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(slurp(fs::path(dir.file("out")) / "n.csv") ==
          "time,entity,n\n0,C.c0,1\n2,C.c0,2\n4,C.c0,3\n");

    // Without the package: the process says what is missing, the run names the simulator.
    std::ofstream(file) << world("{python: \"py_counter:Counter\"}");
    r = sim_runner({"run", file, "--out", dir.file("out2"), "--quiet"});
    CHECK(r.status != 0);
    CHECK(r.err.find("python: needs the package mosaik-api-v3") != std::string::npos);
    CHECK(r.err.find("mosaik.sim_config.Counter") != std::string::npos);
    std::ofstream(file) << world("{python: \"py_counter.Counter\"}");
    r = sim_runner({"validate", file});
    CHECK(r.status == 2);
    CHECK(r.err.find(":5:23: mosaik.sim_config.Counter.python: expected module:Class") !=
          std::string::npos);
}

TEST_CASE("a scenario without a mosaik: section still needs clock, containers and agents",
          "[tools][sim-runner]") {
    sim_test::temp_dir dir;
    const std::string file = dir.file("empty.yaml");
    std::ofstream(file) << "name: nothing\n";
    auto r = sim_runner({"validate", file});
    CHECK(r.status == 2);
    CHECK(r.err.find(":1:1: clock: missing") != std::string::npos);
    CHECK(r.err.find(":1:1: agents: missing") != std::string::npos);
}

TEST_CASE("a simulator that crashes, fails or does not start ends the run with exit 1",
          "[tools][sim-runner][cosim]") {
    sim_test::temp_dir dir;
    // Names of their own in the command lines, to find the processes afterwards.
    const std::string tag = std::to_string(::getpid());
    const fs::path python = dir.file("py" + tag + ".py");
    fs::create_symlink(SIM_GENERIC_SIM_PY, python);
    const fs::path crashing = dir.file("crash" + tag);
    fs::create_symlink(SIM_MOSAIK_TEST_SIM_EXE, crashing);
    const fs::path sleeper = dir.file("sleep" + tag);
    fs::create_symlink("/bin/sleep", sleeper);
    auto world = [&](const std::string& t_params, const std::string& extra = "") {
        // A short start timeout only where nothing is meant to connect: on a loaded machine
        // python3 may take longer than that to start.
        return std::string("mosaik:\n  until: 10\n") +
               (extra.empty() ? "" : "  start_timeout: 0.5\n") +
               "  sim_config:\n"
               "    Py: {cmd: \"" SIM_PYTHON " " +
               python.string() +
               " %(addr)s\"}\n"
               "    Test: {cmd: \"" +
               crashing.string() + " %(addr)s\"}\n" + extra +
               "  simulators: [{sid: A, sim: Py}, {sid: T, sim: Test, params: " + t_params +
               "}]\n"
               "  entities: [{name: a, sim: A, model: A}, {sim: T, model: Echo}]\n"
               "  connections: [{from: A.0, to: T.E0, attrs: [[val_out, in]]}]\n"
               "record: [{entities: a, observe: [val_out], to: a.csv}]\n";
    };
    const std::string file = dir.file("fail.yaml");
    // Killed processes take a moment to go: none may be left once that has passed.
    auto left_behind = [&] {
        const bool gone = sim_test::eventually(
            [&] {
                return processes_with(python.string()).empty() &&
                       processes_with(crashing.string()).empty() &&
                       processes_with(sleeper.string()).empty();
            },
            std::chrono::seconds(10));
        return gone ? 0 : 1;
    };

    // T aborts in its step at 2: A's recording holds its steps 0, 1 and 2 (A cannot go on
    // to 3 while T, its consumer, has not reached it).
    std::ofstream(file) << world("{crash_at: 2}");
    auto r = sim_runner({"run", file, "--out", dir.file("crash"), "--quiet"});
    CHECK(r.status == 1);
    CHECK(r.err.find("simulator T: step") != std::string::npos);
    CHECK(r.err.find("(the step at 2)") != std::string::npos);
    CHECK(slurp(fs::path(dir.file("crash")) / "a.csv") ==
          "time,entity,val_out\n0,A.0,0\n1,A.0,1\n2,A.0,2\n");
    CHECK(left_behind() == 0);

    // T fails in init (and closes its connection): setup stops A's process too.
    std::ofstream(file) << world("{fail_init: true}");
    r = sim_runner({"run", file, "--out", dir.file("init"), "--quiet"});
    CHECK(r.status == 1);
    INFO(r.err);
    CHECK(r.err.find("the run failed: simulator T: init") != std::string::npos);
    CHECK(r.err.find("init was told to fail") != std::string::npos);
    CHECK(left_behind() == 0);

    // A simulator that never connects: it is ended when its start timeout is over.
    std::string never = world("{}", "    Slow: {cmd: \"" + sleeper.string() + " 30\"}\n");
    never.replace(never.find("{sid: T, sim: Test"), 18, "{sid: T, sim: Slow");
    std::ofstream(file) << never;
    const auto began = std::chrono::steady_clock::now();
    r = sim_runner({"run", file, "--out", dir.file("slow"), "--quiet"});
    CHECK(r.status == 1);
    CHECK(r.err.find("mosaik.sim_config.Slow") != std::string::npos);
    CHECK(r.err.find("did not connect within its start timeout") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - began < std::chrono::seconds(20));
    CHECK(left_behind() == 0);
}

TEST_CASE("simulator processes of a mosaik: section end when their master is killed",
          "[tools][sim-runner][cosim]") {
    sim_test::temp_dir dir;
    // A name of its own in the simulator's command line, to find it among the processes.
    const fs::path sim = dir.file("lifeline" + std::to_string(::getpid()) + ".py");
    fs::create_symlink(SIM_GENERIC_SIM_PY, sim);
    const fs::path mark = dir.file("stuck");
    const fs::path file = dir.file("stuck.yaml");
    // The simulator hangs in its first step: it does not read its connection any more, so only
    // its lifeline can end it once the master is gone.
    std::ofstream(file) << "mosaik:\n"
                           "  until: 10\n"
                           "  sim_config: {S: {cmd: \"exec "
                        << SIM_PYTHON << " " << sim.string()
                        << " %(addr)s\"}}\n"
                           "  simulators: [{sid: A, sim: S, params: {hang_at: 0, hang_mark: \""
                        << mark.string()
                        << "\"}}]\n"
                           "  entities: [{sim: A, model: A}]\n";
    sim_test::child_process p(
        {SIM_RUNNER_EXE, "run", file.string(), "--out", dir.file("out"), "--quiet"});
    REQUIRE(sim_test::eventually([&] { return fs::exists(mark); }, std::chrono::seconds(20)));
    REQUIRE(processes_with(sim.string()).size() == 1);
    ::kill(p.pid(), SIGKILL);  // no chance to stop its simulators
    CHECK(p.wait() == 128 + SIGKILL);
    CHECK(sim_test::eventually([&] { return processes_with(sim.string()).empty(); },
                               std::chrono::seconds(10)));
    for (int pid : processes_with(sim.string()))
        ::kill(pid, SIGKILL);  // left behind by a broken lifeline: not by this test
}

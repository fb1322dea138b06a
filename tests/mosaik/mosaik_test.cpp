// The mosaik adapter against a small master written for these tests, which follows
// ../shared/docs/mosaik-api.md: the simulators run as child processes, started as mosaik starts
// them (`cmd: prog %(addr)s`, connecting back) or listening (`--remote`, mosaik's `connect:`).

#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <csignal>
#include <cstring>

#include <boost/fiber/operations.hpp>

#include <sim/agent/agent.hpp>
#include <sim/agent/registry.hpp>
#include <sim/channel/channel.hpp>
#include <sim/channel/message.hpp>
#include <sim/codec/codec.hpp>
#include <sim/core/error.hpp>
#include <sim/framing/frame.hpp>
#include <sim/mosaik/container_simulator.hpp>
#include <sim/mosaik/protocol.hpp>
#include <sim/rpc/request.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/transport/stream.hpp>

#include "support/child.hpp"
#include "support/net.hpp"
#include "support/test_support.hpp"

using sim::array;
using sim::map;
using sim::value;

namespace {

sim::channel_options json() {
    sim::channel_options o;
    o.codec = "json";
    o.default_timeout = std::chrono::seconds(20);
    return o;
}

value call(const std::string& name, array args = {}, map kwargs = {}) {
    return sim::rpc::make_request(name, std::move(args), std::move(kwargs));
}

value from_json(const std::string& text) {
    return sim::make_codec("json")->decode(sim_test::as_bytes(text));
}

int exit_status(sim_test::child_process& p);

// A master with one simulator started as mosaik's cmd: starter does: the simulator connects
// back to the address it is given.
struct master {
    std::unique_ptr<sim::listener> listener = sim::listen_on(sim::address::tcp("127.0.0.1", 0), {});
    std::unique_ptr<sim_test::child_process> sim;
    std::optional<sim::channel> ch;

    explicit master(const std::string& exe, std::vector<std::string> extra = {}) {
        std::vector<std::string> argv{exe};
        for (auto& a : extra)
            argv.push_back(std::move(a));
        argv.push_back("127.0.0.1:" + std::to_string(listener->local_address().port));
        sim = std::make_unique<sim_test::child_process>(argv);
        boost::system::error_code ec;
        auto s = listener->accept(ec);
        REQUIRE(s);
        listener->close();
        ch.emplace(std::move(s), json());
    }
    value send(const value& request) { return sim::mosaik::send(*ch, request); }
    // `stop` has no answer: the simulator finishes and closes the connection.
    int stop() {
        sim::spawn([this] {
            try {
                sim::mosaik::send(*ch, call("stop"), sim::deadline(std::chrono::seconds(10)));
            } catch (const std::exception&) {
            }
        });
        return exit_status(*sim);
    }
};

// Waits for a child to exit while this runtime's fibers go on (the connection must be served).
int exit_status(sim_test::child_process& p) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
        int status = p.wait(std::chrono::milliseconds(0));
        if (status != -1 || std::chrono::steady_clock::now() > until) return status;
        boost::this_fiber::sleep_for(std::chrono::milliseconds(2));
    }
}

}  // namespace

TEST_CASE("example-sim answers mosaik's whole call sequence", "[mosaik]") {
    sim::runtime rt;
    rt.run([] {
        master m(SIM_EXAMPLE_SIM_EXE);
        value meta = m.send(call(
            "init", {value("ExampleSim-0")},
            map{{value("time_resolution"), value(1.0)}, {value("eid_prefix"), value("Model_")}}));
        // "libsim": the serving loop answers in order, so a libsim master may pipeline
        // get_data behind step (mosaik ignores the key).
        CHECK(meta ==
              from_json(R"({"api_version": "3.0", "type": "hybrid", "models": {"ExampleModel":
            {"public": true, "params": ["init_val"], "attrs": ["delta", "val"], "trigger": ["delta"]}},
            "libsim": {"in_order": true}})"));
        CHECK(
            m.send(call("create", {value(2), value("ExampleModel")},
                        map{{value("init_val"), value(2)}})) ==
            from_json(
                R"([{"eid": "Model_0", "type": "ExampleModel"}, {"eid": "Model_1", "type": "ExampleModel"}])"));
        CHECK(m.send(call("setup_done")).is_nil());
        CHECK(m.send(call("step",
                          {value(0),
                           from_json(R"({"Model_0": {"delta": {"Ctrl-0.c0": 3, "Ctrl-0.c1": 1}}})"),
                           value(10)})) == value(1));
        CHECK(m.send(call("get_data",
                          {from_json(R"({"Model_0": ["val", "delta"], "Model_1": ["val"]})")})) ==
              from_json(R"({"Model_0": {"val": 6.0, "delta": 4.0}, "Model_1": {"val": 3.0}})"));
        // API 2 masters step without max_advance.
        CHECK(m.send(call("step", {value(1), value(map{})})) == value(2));
        CHECK(m.send(call("get_data", {from_json(R"({"Model_1": ["val"]})")})) ==
              from_json(R"({"Model_1": {"val": 4.0}})"));
        CHECK(m.stop() == 0);
    });
}

TEST_CASE("inputs, outputs and calls that do not match the meta are failure replies", "[mosaik]") {
    sim::runtime rt;
    rt.run([] {
        master m(SIM_EXAMPLE_SIM_EXE);
        CHECK(sim_test::remote_message([&] {
                  m.send(call("create", {value(1), value("ExampleModel")}));
              }) == "RuntimeError: create: init has not been called");
        m.send(call("init", {value("ExampleSim-0")}, map{{value("time_resolution"), value(1.0)}}));
        CHECK(sim_test::remote_message([&] {
                  m.send(call("create", {value(1), value("Nope")}));
              }) == "ValueError: create: no public model \"Nope\" (models: ExampleModel)");
        CHECK(sim_test::remote_message([&] {
                  m.send(call("create", {value(1), value("ExampleModel")},
                              map{{value("init"), value(1)}}));
              }) ==
              "TypeError: create: model ExampleModel has no parameter \"init\" (params: init_val)");
        m.send(call("create", {value(1), value("ExampleModel")}));
        CHECK(sim_test::remote_message([&] {
                  m.send(call("step", {value(0), from_json(R"({"Model_0": {"speed": {"x.y": 1}}})"),
                                       value(5)}));
              }) ==
              "ValueError: step: entity \"Model_0\" (ExampleModel) has no input \"speed\" (attrs: "
              "delta, val)");
        CHECK(sim_test::remote_message([&] {
                  m.send(call("step", {value(0), from_json(R"({"Model_9": {"delta": {"x.y": 1}}})"),
                                       value(5)}));
              }) == "ValueError: step: no entity \"Model_9\" in ExampleSim-0");
        CHECK(sim_test::remote_message(
                  [&] { m.send(call("get_data", {from_json(R"({"Model_0": ["power"]})")})); }) ==
              "ValueError: get_data: entity \"Model_0\" (ExampleModel) has no output \"power\" "
              "(attrs: delta, val)");
        CHECK(sim_test::remote_message([&] { m.send(call("frobnicate")); }) ==
              "AttributeError: ExampleSim-0 has no method \"frobnicate\"");
        // The simulator still works after each failure.
        CHECK(m.send(call("step", {value(0), value(map{}), value(5)})) == value(1));
        CHECK(m.stop() == 0);
    });
}

TEST_CASE("a failing init closes the connection without a reply", "[mosaik]") {
    sim::runtime rt;
    rt.run([] {
        master m(SIM_MOSAIK_TEST_SIM_EXE);
        CHECK_THROWS_AS(
            m.send(call("init", {value("T-0")}, map{{value("fail_init"), value(true)}})),
            sim::connection_closed);
        CHECK(exit_status(*m.sim) == 1);
    });
}

TEST_CASE("during step the simulator calls mosaik back over the same connection", "[mosaik]") {
    sim::runtime rt;
    rt.run([] {
        master m(SIM_MOSAIK_TEST_SIM_EXE);
        std::vector<std::string> asked;
        value set_data, event_at;
        // The master's side of the callbacks: answered while its own step request waits.
        sim::spawn([&] {
            try {
                for (;;) {
                    sim::request r = m.ch->recv();
                    const std::string name = r.content()[0].as_string();
                    asked.push_back(name);
                    if (name == "get_progress") {
                        r.reply(value(42.5));
                    } else if (name == "get_related_entities") {
                        r.reply(from_json(
                            R"({"nodes": {"T-0.E0": {"type": "Echo", "sid": "T-0"}}, "edges": []})"));
                    } else if (name == "get_data") {
                        r.reply(from_json(R"({"Other-0.X": {"v": 11}})"));
                    } else if (name == "set_data") {
                        set_data = r.content()[1][0];
                        r.reply(value());
                    } else if (name == "set_event") {
                        event_at = r.content()[1][0];
                        r.reply(value());
                    } else {
                        r.fail_with(
                            value(array{value("ValueError"), value("unexpected"), value("")}));
                    }
                }
            } catch (const sim::connection_closed&) {
            }
        });
        m.send(call("init", {value("T-0")}, map{{value("call_back"), value(true)}}));
        m.send(call("create", {value(1), value("Echo")}));
        CHECK(m.send(call("step", {value(3), from_json(R"({"E0": {"in": {"A.a": 1.5, "B.b": 2}}})"),
                                   value(9)}))
                  .is_nil());
        CHECK(asked == std::vector<std::string>{"get_progress", "get_related_entities", "get_data",
                                                "set_data", "set_event"});
        CHECK(set_data == from_json(R"({"T-0.E0": {"Other-0.X": {"v": 7}}})"));
        CHECK(event_at == value(8));
        value data = m.send(call("get_data", {from_json(R"({"E0": ["out"]})")}));
        CHECK(data["E0"] == from_json(R"({"out": 3.5})"));
        CHECK(data["related"]["nodes"]["T-0.E0"]["type"] == value("Echo"));
        CHECK(data["fetched"] == from_json(R"({"Other-0.X": {"v": 11}})"));
        CHECK(m.send(call("progress")) == value(42.5));
        CHECK(m.stop() == 0);
    });
}

TEST_CASE("extra methods bind mosaik's arguments to their C++ signatures", "[mosaik]") {
    sim::runtime rt;
    rt.run([] {
        master m(SIM_MOSAIK_TEST_SIM_EXE);
        value meta =
            m.send(call("init", {value("T-0")}, map{{value("time_resolution"), value(1.0)}}));
        CHECK(meta["extra_methods"] ==
              from_json(R"(["echo", "progress", "scaled", "count_arguments"])"));
        CHECK(m.send(call("scaled", {value(1.5)})) == value(3.0));
        CHECK(m.send(call("scaled", {value(1.5)}, map{{value("factor"), value(4)}})) == value(6.0));
        CHECK(sim_test::remote_message([&] { m.send(call("scaled")); }) ==
              "TypeError: scaled() missing 1 required positional argument: 'x'");
        CHECK(sim_test::remote_message([&] {
                  m.send(call("scaled", {value(1), value(2), value(3)}));
              }) == "TypeError: scaled() takes 2 positional arguments but 3 were given");
        CHECK(sim_test::remote_message([&] {
                  m.send(call("scaled", {value("many")}));
              }).starts_with("TypeError: scaled() argument 'x': "));
        CHECK(sim_test::remote_message([&] {
                  m.send(call("echo", {value(1)}, map{{value("y"), value(2)}}));
              }) == "TypeError: echo() got an unexpected keyword argument 'y'");
        CHECK(m.send(call("count_arguments", {value(1), value(2)}, map{{value("k"), value(3)}})) ==
              value(3));
        CHECK(m.stop() == 0);
    });
}

TEST_CASE("a Python simulator with the standard library only answers the same protocol",
          "[mosaik][python]") {
    sim::runtime rt;
    rt.run([] {
        {
            master m(SIM_PYTHON, {SIM_GENERIC_SIM_PY});
            value meta = m.send(
                call("init", {value("A")},
                     map{{value("time_resolution"), value(1.0)}, {value("step_size"), value(2)}}));
            CHECK(meta["type"] == value("time-based"));
            CHECK(meta["models"]["A"]["attrs"] ==
                  from_json(R"(["val_in", "trigger_in", "val_out", "never_out"])"));
            CHECK(m.send(call("create", {value(2), value("A")})) ==
                  from_json(R"([{"eid": "0", "type": "A", "extra_info": null},
                               {"eid": "1", "type": "A", "extra_info": null}])"));
            CHECK(m.send(call("setup_done")).is_nil());
            CHECK(m.send(call("step", {value(0), from_json(R"({"0": {"val_in": {"B.0": 3}}})"),
                                       value(9)})) == value(2));
            CHECK(m.send(call("get_data", {from_json(R"({"0": ["val_out"]})")})) ==
                  from_json(R"({"0": {"val_out": 0}, "1": {"val_out": 0}})"));
            CHECK(m.send(call("method_a", {value(7)})) == value("method_a(7)"));
            CHECK(sim_test::remote_message([&] { m.send(call("nope")); }) ==
                  "AttributeError: no method nope");
            CHECK(m.stop() == 0);
        }
        {
            // Event-based, with a self-step and an output at a later time.
            master m(SIM_PYTHON, {SIM_GENERIC_SIM_PY});
            value meta = m.send(call("init", {value("B")},
                                     map{{value("step_type"), value("event-based")},
                                         {value("self_steps"), from_json(R"({"0": 3})")},
                                         {value("output_timing"), from_json(R"({"0": 1})")}}));
            CHECK(meta["type"] == value("event-based"));
            m.send(call("create", {value(1), value("A")}));
            CHECK(m.send(call("step", {value(0), value(map{}), value(5)})) == value(3));
            CHECK(m.send(call("get_data", {from_json(R"({"0": ["val_out"]})")})) ==
                  from_json(R"({"time": 1, "0": {"val_out": 0}})"));
            CHECK(m.send(call("step", {value(3), value(map{}), value(5)})).is_nil());
            CHECK(m.send(call("get_data", {from_json(R"({"0": ["val_out"]})")})) ==
                  from_json(R"({})"));
            CHECK(m.stop() == 0);
        }
    });
}

TEST_CASE("split and coalesced frames, non-ASCII text and a 300 KB frame", "[mosaik]") {
    sim::runtime rt;
    rt.run([] {
        auto listener = sim::listen_on(sim::address::tcp("127.0.0.1", 0), {});
        sim_test::child_process p({SIM_MOSAIK_TEST_SIM_EXE,
                                   "127.0.0.1:" + std::to_string(listener->local_address().port)});
        boost::system::error_code ec;
        auto s = listener->accept(ec);
        REQUIRE(s);
        auto codec = sim::make_codec("json");
        auto frame = [&](const value& msg) {
            auto payload = codec->encode(msg);
            std::vector<std::byte> f(4 + payload.size());
            sim::write_frame_header(f.data(), static_cast<std::uint32_t>(payload.size()));
            std::memcpy(f.data() + 4, payload.data(), payload.size());
            return f;
        };
        auto reply = [&] {
            auto f = sim_test::read_frame(*s);
            REQUIRE(!f.empty());
            return codec->decode(std::span(f).subspan(4));
        };
        // init, one byte at a time.
        auto init = frame(value(array{value(0), value(0), call("init", {value("T-0")})}));
        for (std::byte b : init) {
            sim_test::write_bytes(*s, std::span(&b, 1));
            boost::this_fiber::yield();
        }
        CHECK(reply()[0] == value(1));
        // create and setup_done in one write.
        auto first =
            frame(value(array{value(0), value(1), call("create", {value(1), value("Echo")})}));
        auto second = frame(value(array{value(0), value(2), call("setup_done")}));
        std::vector<std::byte> both(first.size() + second.size());
        std::memcpy(both.data(), first.data(), first.size());
        std::memcpy(both.data() + first.size(), second.data(), second.size());
        sim_test::write_bytes(*s, both);
        CHECK(reply()[1] == value(1));
        CHECK(reply() == value(array{value(1), value(2), value()}));
        // Non-ASCII text, and a frame of 300 KB.
        const std::string text = "Grüße, 東京, ⚡ — ok";
        sim_test::write_bytes(*s,
                              frame(value(array{value(0), value(3), call("echo", {value(text)})})));
        CHECK(reply()[2] == value(text));
        std::string big;
        while (big.size() < 300'000)
            big += "Wärme-" + std::to_string(big.size()) + ";";
        sim_test::write_bytes(*s,
                              frame(value(array{value(0), value(4), call("echo", {value(big)})})));
        CHECK(reply()[2] == value(big));
        // A request that is not [name, [args], {kwargs}] is a failure reply; the simulator serves
        // on.
        sim_test::write_bytes(*s, frame(value(array{value(0), value(5), value("step me")})));
        CHECK(reply() ==
              value(array{value(2), value(5),
                          value(array{value("TypeError"),
                                      value("expected [name, [args], {kwargs}]"), value("")})}));
        sim_test::write_bytes(*s, frame(value(array{value(0), value(6), call("stop")})));
        CHECK(sim_test::read_frame(*s).empty());  // no reply: the simulator closes
        CHECK(exit_status(p) == 0);
    });
}

TEST_CASE("with --remote the simulator listens and mosaik connects", "[mosaik]") {
    sim::runtime rt;
    rt.run([] {
        // A free port: bound, noted, released for the simulator to bind.
        std::uint16_t port = 0;
        {
            auto probe = sim::listen_on(sim::address::tcp("127.0.0.1", 0), {});
            port = probe->local_address().port;
        }
        sim_test::child_process p(
            {SIM_EXAMPLE_SIM_EXE, "--remote", "-t", "20", "127.0.0.1:" + std::to_string(port)});
        auto ch = sim::open_connection(
            "tcp://127.0.0.1:" + std::to_string(port), json(),
            sim::connect_options{.timeout = std::chrono::seconds(20),
                                 .first_delay = std::chrono::milliseconds(10)});
        CHECK(ch.send(call("init", {value("ExampleSim-0")}))["type"] == value("hybrid"));
        sim::spawn([&] {
            try {
                ch.send(call("stop"), sim::deadline(std::chrono::seconds(10)));
            } catch (const std::exception&) {
            }
        });
        CHECK(exit_status(p) == 0);
    });
}

TEST_CASE("a simulator that crashes mid-step gives the master a clear error", "[mosaik]") {
    sim::runtime rt;
    rt.run([] {
        master m(SIM_MOSAIK_TEST_SIM_EXE);
        m.send(call("init", {value("T-0")}, map{{value("crash_at"), value(2)}}));
        m.send(call("create", {value(1), value("Echo")}));
        CHECK(m.send(call("step", {value(1), value(map{}), value(5)})).is_nil());
        try {
            m.send(call("step", {value(2), value(map{}), value(5)}));
            FAIL("the step of a crashed simulator returned");
        } catch (const sim::connection_closed& e) {
            CHECK(std::string(e.what()).find("127.0.0.1") != std::string::npos);
        }
        CHECK(exit_status(*m.sim) == 128 + SIGABRT);
    });
}

TEST_CASE("the command line is mosaik's", "[mosaik]") {
    sim_test::child_process help({SIM_EXAMPLE_SIM_EXE, "--help"});
    CHECK(help.read_line().find("mosaik's ExampleSim") != std::string::npos);  // main's description
    CHECK(help.wait() == 0);
    sim_test::child_process bad({SIM_EXAMPLE_SIM_EXE, "nocolon"});
    CHECK(bad.wait() == 2);
    // Nobody listens: it gives up after its timeout with status 1.
    std::uint16_t port = 0;
    sim::runtime rt;
    rt.run([&] {
        auto probe = sim::listen_on(sim::address::tcp("127.0.0.1", 0), {});
        port = probe->local_address().port;
    });
    sim_test::child_process none(
        {SIM_EXAMPLE_SIM_EXE, "-t", "0.2", "127.0.0.1:" + std::to_string(port)});
    CHECK(none.wait() == 1);
}

TEST_CASE("a container of agents is a mosaik simulator", "[mosaik][agents]") {
    sim::runtime rt;
    rt.run([] {
        master m(SIM_AGENTS_SIM_EXE);
        value meta = m.send(call("init", {value("Agents-0")},
                                 map{{value("time_resolution"), value(1.0)},
                                     {value("start_date"), value("2026-06-01T00:00:00+00:00")}}));
        CHECK(meta["type"] == value("hybrid"));
        CHECK(meta["models"]["Household"]["trigger"] == from_json(R"(["price"])"));
        value agg = m.send(call("create", {value(1), value("Aggregator")}));
        REQUIRE(agg.as_array().size() == 1);
        CHECK(agg[0]["eid"] == value("0"));
        const value address = agg[0]["extra_info"]["address"];
        value houses =
            m.send(call("create", {value(3), value("Household")},
                        map{{value("base_kw"), value(1.0)}, {value("aggregator"), address}}));
        CHECK(houses[2]["eid"] == value("3"));
        CHECK(sim_test::remote_message([&] {
                  m.send(call("create", {value(1), value("Household")},
                              map{{value("base_kw"), value("x")}}));
              }).starts_with("TypeError: create: cannot make a Household: "));
        m.send(call("setup_done"));
        // The agents sleep 15 minutes at a time: the container's next event is mosaik's next step.
        CHECK(m.send(call("step", {value(0), value(map{}), value(100000)})) == value(900));
        // A price for household 1 before the step at 900: it uses less.
        CHECK(m.send(call("step", {value(900), from_json(R"({"1": {"price": {"Grid-0.p": 0.5}}})"),
                                   value(100000)})) == value(1800));
        CHECK(
            m.send(call(
                "get_data",
                {from_json(
                    R"({"0": ["total_kw"], "1": ["load_kw", "price"], "2": ["load_kw"]})")})) ==
            from_json(
                R"({"0": {"total_kw": 0.0}, "1": {"load_kw": 0.8, "price": 0.5}, "2": {"load_kw": 1.0}})"));
        // The aggregator closes each step's sum when it next wakes: at 1800 it has 2.8.
        CHECK(m.send(call("step", {value(1800), value(map{}), value(100000)})) == value(2700));
        CHECK(m.send(call("get_data", {from_json(R"({"0": ["total_kw"]})")})) ==
              from_json(R"({"0": {"total_kw": 2.8}})"));
        CHECK(sim_test::remote_message(
                  [&] { m.send(call("get_data", {from_json(R"({"0": ["nope"]})")})); })
                  .starts_with(
                      "ValueError: get_data: entity \"0\" (Aggregator) has no output \"nope\""));
        CHECK(m.stop() == 0);
    });
}

namespace {

// Says whether its own fiber has run.
class starter : public sim::agent {
  public:
    explicit starter(sim::container& c) : agent(c) {
        observable("started", [this] { return started_; });
        start([this] { started_ = 1; });
    }

  private:
    std::int64_t started_ = 0;
};

}  // namespace

TEST_CASE("a container simulator hands out agents made before create, started at its first step",
          "[mosaik][agents]") {
    sim::runtime rt;
    rt.run([] {
        sim::agent_registry types;
        types.add<starter>("starter");
        sim::mosaik::container_simulator sim(
            types, {{"crew", sim::mosaik::model{.attrs = {"started"}}}}, {}, "local://adopt-test");
        sim.init("C-0", 60, {});
        sim.container().hold_starts();
        for (int i = 0; i < 3; ++i)
            types.spawn(sim.container(), "starter");
        sim.adopt("crew", {"0", "1", "2"});

        const auto two = sim.create(2, "crew", {});
        REQUIRE(two.size() == 2);
        CHECK(two[0].eid == "0");
        CHECK(two[1].eid == "1");
        CHECK(two[1].type == "crew");
        CHECK(two[1].extra_info == value(map{{value("address"), value("local://adopt-test/1")}}));
        try {
            sim.create(1, "crew", map{{value("x"), value(1)}});
            FAIL("create took params for agents made already");
        } catch (const sim::mosaik::failure& e) {
            CHECK(e.type() == "TypeError");
            CHECK(std::string(e.what()).find("crew takes no params") != std::string::npos);
        }
        try {
            sim.create(2, "crew", {});
            FAIL("create handed out more agents than there are");
        } catch (const sim::mosaik::failure& e) {
            CHECK(e.type() == "ValueError");
            CHECK(std::string(e.what()) == "create: 2 of crew asked for, 1 left (of 3)");
        }
        CHECK(sim.create(1, "crew", {}).at(0).eid == "2");

        // Held until the first step, however long the master's fiber waits before it.
        boost::this_fiber::yield();
        const sim::mosaik::outputs started{{"0", {"started"}}, {"2", {"started"}}};
        CHECK(sim.get_data(started) == from_json(R"({"0": {"started": 0}, "2": {"started": 0}})"));
        CHECK(sim.step(0, {}, 10) == std::nullopt);  // nothing is due after that
        CHECK(sim.get_data(started) == from_json(R"({"0": {"started": 1}, "2": {"started": 1}})"));
        CHECK(sim.calls_served() == 0);
        sim.finalize();
    });
}

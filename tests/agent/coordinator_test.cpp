// Several containers stepped to one virtual time by a coordinator: quiescence across containers,
// messages in flight at a step boundary, and results that do not depend on the transport, the
// threads or the processes.

#include <catch2/catch.hpp>

#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <sim/agent/container.hpp>
#include <sim/agent/coordinator.hpp>
#include <sim/agent/manager.hpp>
#include <sim/core/error.hpp>
#include <sim/transport/local_faults.hpp>

#include "agent/test_agents.hpp"
#include "support/child.hpp"
#include "support/net.hpp"

using namespace std::chrono_literals;
using sim::value;

namespace {

constexpr const char* start_date = "2016-01-01T00:00:00+00:00";

sim::container_options coordinated(std::string name, std::uint64_t seed = 7) {
    sim::container_options o;
    o.name = std::move(name);
    o.clock = sim::virtual_time{start_date, 0};
    o.coordinated = true;
    o.seed = seed;
    return o;
}

// Every frame between containers takes `delay` (both ways), so that requests and replies are
// still travelling when the containers they left are already quiet.
std::shared_ptr<sim::local_faults> slow_frames(std::chrono::microseconds delay) {
    auto f = std::make_shared<sim::local_faults>();
    f->on_frame = [delay](sim::direction, std::uint64_t, std::span<const std::byte>) {
        return sim::fault_action::later(delay);
    };
    return f;
}

template <class T>
T& agent_at(sim::container& c, const char* id) {
    auto* a = dynamic_cast<T*>(c.find(id));
    REQUIRE(a != nullptr);
    return *a;
}

// X.pinger -> Y.relay -> Z.recorder, stepped 0..5: every call of a step is answered within it.
void check_chain(const std::string& scheme, std::shared_ptr<sim::local_faults> faults = nullptr) {
    auto options = [&](const char* name) {
        auto o = coordinated(name);
        o.channel.transport.faults = faults;
        return o;
    };
    auto addr = [&](const char* name) {
        return scheme == "local" ? fmt::format("local://chain-{}", name) : "tcp://127.0.0.1:0";
    };
    sim::container_thread x(addr("X"), options("X")), y(addr("Y"), options("Y")),
        z(addr("Z"), options("Z"));
    z.invoke([](sim::container& c) { c.spawn<sim_test::recorder>(); });
    y.invoke([&](sim::container& c) { c.spawn<sim_test::relay>(z.base_url() + "0"); });
    x.invoke([&](sim::container& c) { c.spawn<sim_test::pinger>(y.base_url() + "0", 1.0); });

    sim::runtime rt;
    rt.run([&] {
        sim::coordinator coord({x.base_url(), y.base_url(), z.base_url()});
        CHECK(coord.step(0) == std::optional<double>(1));
        for (int t = 1; t <= 5; ++t) {
            CHECK(coord.step(t) == std::optional<double>(t + 1));
            // The whole chain of the step has run: the recorder saw the call at `t`, and the
            // pinger holds the answer that came back through the relay.
            auto at =
                z.invoke([](sim::container& c) { return agent_at<sim_test::recorder>(c, "0").at; });
            REQUIRE(at.size() == static_cast<std::size_t>(t));
            CHECK(at.back() == t);
            auto got =
                x.invoke([](sim::container& c) { return agent_at<sim_test::pinger>(c, "0").got; });
            REQUIRE(got.size() == static_cast<std::size_t>(t));
            CHECK(got.back() == std::pair<double, double>(t, 1000 + t));
        }
        // Between steps nothing is in flight: every container counts as many messages received
        // from its peers as they sent to it.
        std::uint64_t sent = 0, received = 0;
        for (auto* c : {&x, &y, &z}) {
            auto n = c->invoke([](sim::container& k) { return k.counts(); });
            sent += n.sent;
            received += n.received;
            CHECK(n.held == 0);
        }
        CHECK(sent == received);
        CHECK(sent > 0);
    });
}

// ---- determinism ------------------------------------------------------------------------------

// What a gossip run produced: the times stepped to and each agent's digest.
struct outcome {
    std::vector<double> times;
    std::vector<std::string> digests;
    bool operator==(const outcome&) const = default;
};

// Fills three containers (each with a manager at "0") with four gossip agents each that know
// all the others, steps them until no event is left, and collects what the agents made of it.
outcome gossip_run(const std::vector<std::string>& bases) {
    outcome out;
    sim::runtime rt;
    rt.run([&] {
        // The managers' serializer table: dates first, then references.
        sim::channel_options o;
        o.codec_settings.serializers.add(sim::utc_time::date_serializer());
        std::vector<sim::rpc::connection> managers;
        for (const auto& base : bases)
            managers.push_back(sim::rpc::open_connection(base, nullptr, o));
        std::vector<std::string> all;
        for (const auto& base : bases)
            for (int i = 1; i <= 4; ++i)
                all.push_back(base + std::to_string(i));
        for (std::size_t k = 0; k < bases.size(); ++k) {
            for (int i = 1; i <= 4; ++i) {
                std::vector<std::string> peers;
                for (const auto& url : all)
                    if (url != bases[k] + std::to_string(i)) peers.push_back(url);
                auto made = managers[k].remote().call("agents/0/spawn", "gossip", peers, 6);
                REQUIRE(made[1] == value(bases[k] + std::to_string(i)));
            }
        }
        sim::coordinator coord(bases);
        std::optional<double> next = coord.step(0);
        while (next) {
            out.times.push_back(*next);
            REQUIRE(out.times.size() < 100);
            next = coord.step(*next);
        }
        for (auto& m : managers)
            for (int i = 1; i <= 4; ++i)
                out.digests.push_back(
                    m.remote().call(fmt::format("agents/{}/digest", i)).as<std::string>());
    });
    return out;
}

outcome gossip_in_threads(const std::string& scheme, const std::string& tag) {
    static const sim::agent_registry types = sim_test::test_registry();
    std::vector<std::unique_ptr<sim::container_thread>> cs;
    std::vector<std::string> bases;
    for (const char* name : {"X", "Y", "Z"}) {
        std::string address =
            scheme == "local" ? fmt::format("local://{}-{}", tag, name) : "tcp://127.0.0.1:0";
        cs.push_back(std::make_unique<sim::container_thread>(address, coordinated(name)));
        cs.back()->invoke([](sim::container& c) { c.spawn<sim::manager>(types); });
        bases.push_back(cs.back()->base_url());
    }
    return gossip_run(bases);
}

outcome gossip_in_processes() {
    std::vector<std::unique_ptr<sim_test::child_process>> ps;
    std::vector<std::string> bases;
    for (const char* name : {"X", "Y", "Z"}) {
        ps.push_back(std::make_unique<sim_test::child_process>(std::vector<std::string>{
            SIM_TEST_CONTAINER_EXE, "--address", "tcp://127.0.0.1:0", "--name", name, "--virtual",
            start_date, "--seed", "7", "--coordinated"}));
        std::string line = ps.back()->read_line();
        REQUIRE(line.starts_with("listening "));
        bases.push_back(line.substr(std::string_view("listening ").size()));
    }
    outcome out = gossip_run(bases);
    // Stop them the way a client stops a sub-process container.
    sim::runtime rt;
    rt.run([&] {
        for (const auto& base : bases)
            sim::rpc::open_connection(base).remote().call("agents/0/stop");
    });
    for (auto& p : ps)
        CHECK(p->wait() == 0);
    return out;
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<outcome> {
    static std::string convert(const outcome& o) {
        return fmt::format("times {} digests {}", fmt::join(o.times, " "),
                           fmt::join(o.digests, " "));
    }
};
}  // namespace Catch

TEST_CASE("a step ends only when a chain of calls across three containers is answered",
          "[agent][coordinator]") {
    SECTION("over TCP") {
        check_chain("tcp");
    }
    SECTION("in process") {
        check_chain("local");
    }
}

TEST_CASE("a step waits for requests and replies still in flight at its boundary",
          "[agent][coordinator]") {
    // Each frame takes 20 ms: when the pinger's request leaves X, every container is quiet for
    // a while (X waits, Y has nothing yet), and so when Y's reply travels back.
    check_chain("local", slow_frames(20ms));
}

TEST_CASE("coordinated containers give the same results whatever the transport and process",
          "[agent][coordinator][determinism]") {
    outcome tcp1 = gossip_in_threads("tcp", "");
    outcome tcp2 = gossip_in_threads("tcp", "");
    outcome local = gossip_in_threads("local", "gossip");
    outcome procs = gossip_in_processes();
    REQUIRE(tcp1.digests.size() == 12);
    // The run did something that depends on the order of delivery: the agents disagree.
    CHECK(std::set<std::string>(tcp1.digests.begin(), tcp1.digests.end()).size() == 12);
    CHECK(tcp1.times.size() > 3);
    CHECK(tcp1 == tcp2);
    CHECK(tcp1 == local);
    CHECK(tcp1 == procs);
}

TEST_CASE("a coordinated container calls a container outside the coordination",
          "[agent][coordinator]") {
    // W is stepped by nobody: its messages are not held, and X waits for the answer all the same.
    sim::container_thread w("tcp://127.0.0.1:0", {.name = "W"});
    w.invoke([](sim::container& c) {
        c.spawn<sim_test::recorder>();
        c.spawn<sim_test::relay>(c.base_url() + "0");
    });
    sim::container_thread x("tcp://127.0.0.1:0", coordinated("X"));
    x.invoke([&](sim::container& c) { c.spawn<sim_test::pinger>(w.base_url() + "1", 1.0); });
    sim::runtime rt;
    rt.run([&] {
        sim::coordinator coord({x.base_url()});
        CHECK(coord.step(0) == std::optional<double>(1));
        CHECK(coord.step(1) == std::optional<double>(2));
        CHECK(coord.step(2) == std::optional<double>(3));
        auto got =
            x.invoke([](sim::container& c) { return agent_at<sim_test::pinger>(c, "0").got; });
        CHECK(got == std::vector<std::pair<double, double>>{{1, 1001}, {2, 1002}});
    });
}

TEST_CASE("a step whose container does not answer fails at the step timeout, naming it",
          "[coordinator]") {
    sim::container_thread x("tcp://127.0.0.1:0", coordinated("X")),
        y("tcp://127.0.0.1:0", coordinated("Y"));
    y.invoke([&](sim::container& c) { c.spawn<sim_test::recorder>(); });
    sim::runtime rt;
    rt.run([&] {
        sim::coordinator coord({x.base_url(), y.base_url()}, {.step_timeout = 300ms});
        CHECK(coord.step(0) == std::nullopt);
        // Y's thread is kept busy (as by an agent that never yields) until the test lets go.
        auto let_go = std::make_shared<std::atomic<bool>>(false);
        struct release {
            std::shared_ptr<std::atomic<bool>> flag;
            ~release() { *flag = true; }
        } on_exit{let_go};
        auto busy = y.async([let_go](sim::container&) {
            const auto cap = std::chrono::steady_clock::now() + 30s;
            while (!let_go->load() && std::chrono::steady_clock::now() < cap) {
            }
        });
        std::string what;
        try {
            coord.step(1);
        } catch (const sim::timeout_error& e) {
            what = e.what();
        }
        *let_go = true;
        busy.get();
        const std::string x_url = x.base_url().substr(0, x.base_url().size() - 1);
        const std::string y_url = y.base_url().substr(0, y.base_url().size() - 1);
        CHECK_THAT(what, Catch::StartsWith("step to 1 not over within 300 ms: " + y_url +
                                           " did not answer clock/begin (last counts; ") &&
                             Catch::Contains(x_url + ": sent 0, received 0, held 0") &&
                             Catch::Contains(y_url + ": no answer in this step"));
    });
}

namespace {
// Answers `relay` only when its container goes: tells the test that the call arrived, then
// sleeps an hour of W's real clock (cancelled by W's shutdown).
class stall : public sim::agent {
  public:
    stall(sim::container& c, std::shared_ptr<std::promise<void>> arrived)
        : agent(c), arrived_(std::move(arrived)) {
        expose(
            "relay",
            [this](double) {
                arrived_->set_value();
                clock().sleep_for(3600);
                return 0.0;
            },
            sim::arg("t"));
    }

  private:
    std::shared_ptr<std::promise<void>> arrived_;
};
}  // namespace

TEST_CASE("a fiber that waits for quiet while its container shuts down leaves before it goes",
          "[coordinator]") {
    // The order that freed a container under a clock/ handler (seen under ASan): the waiting
    // fiber starts after the shutdown has begun and would wake after it ended. It must leave
    // with connection_closed instead, and the shutdown must wait for it.
    sim::runtime rt;
    rt.run([] {
        auto c = std::make_unique<sim::container>("tcp://127.0.0.1:0", coordinated("Y"));
        std::string outcome = "did not run";
        sim::container* raw = c.get();  // `c` is null while its container is destroyed
        sim::runtime::current()->spawn([raw, &outcome] {
            try {
                raw->wait_quiet();
                outcome = "returned";
            } catch (const sim::connection_closed& e) {
                outcome = e.what();
            }
        });
        c.reset();  // does not yield before the shutdown has begun
        CHECK(outcome == "container Y is shutting down");
    });
}

TEST_CASE("a step fails with a clear error when its container goes while the step waits",
          "[coordinator]") {
    // Y's pinger calls W (outside the coordination), which never answers: Y's clock/begin for
    // time 1 waits for quiet inside the container until Y goes.
    auto arrived = std::make_shared<std::promise<void>>();
    std::future<void> call_arrived = arrived->get_future();
    sim::container_thread w("tcp://127.0.0.1:0", {.name = "W"});
    w.invoke([&](sim::container& c) { c.spawn<stall>(arrived); });
    auto y = std::make_unique<sim::container_thread>("tcp://127.0.0.1:0", coordinated("Y"));
    y->invoke([&](sim::container& c) { c.spawn<sim_test::pinger>(w.base_url() + "0", 1.0); });
    const std::string y_url = y->base_url();

    sim::runtime driver;
    driver.start();
    auto stepped = driver.async([y_url]() -> std::string {
        sim::coordinator coord({y_url}, {.step_timeout = 60s});
        if (coord.step(0) != std::optional<double>(1)) return "step(0) did not say 1";
        try {
            coord.step(1);
        } catch (const std::exception& e) {
            return e.what();
        }
        return "step(1) ended without an error";
    });
    REQUIRE(call_arrived.wait_for(30s) == std::future_status::ready);
    // Y's begin(1) handler is inside the quiet wait now: the call it waits for reached W.
    y.reset();
    REQUIRE(stepped.wait_for(30s) == boost::fibers::future_status::ready);
    CHECK_THAT(stepped.get(), Catch::Contains("closed") || Catch::Contains("shutting down"));
    driver.stop();
    driver.join();
}

// sim-call, run as a separate process against RPC servers in this process: results, value
// parsing, exit statuses, the one-line reasons, bounded waits and the load generator.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>

#include <sim/rpc/connection.hpp>
#include <sim/transport/stream.hpp>

#include "support/net.hpp"
#include "support/process.hpp"

using namespace std::chrono_literals;
using sim_test::run_process;

namespace {

sim_test::process_result sim_call(std::vector<std::string> args) {
    args.insert(args.begin(), SIM_CALL_EXE);
    return run_process(args, "");
}

std::size_t lines(const std::string& text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

bool ends_with(const std::string& text, const std::string& tail) {
    return text.size() >= tail.size() &&
           text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

// An RPC server on a runtime of its own thread, exposing what the tests call.
class rpc_server {
  public:
    explicit rpc_server(std::string listen = "tcp://127.0.0.1:0",
                        sim::channel_options options = {}) {
        rt_.start();
        srv_ = rt_.invoke([&] {
            expose();
            return std::make_shared<sim::server>(
                sim::rpc::start_server(listen, root_, {}, options));
        });
        url_ = srv_->local_address().to_string();
    }
    rpc_server(const rpc_server&) = delete;
    rpc_server& operator=(const rpc_server&) = delete;
    ~rpc_server() {
        rt_.invoke([&] {
            released_ = true;
            release_.notify_all();
            srv_.reset();
        });
        rt_.stop();
        rt_.join();
    }

    const std::string& url() const { return url_; }

  private:
    void expose() {
        using sim::rpc::arg;
        root_.expose(
            "add", [](int a, int b) { return a + b; }, arg("a"), arg("b"));
        root_.expose_raw("echo",
                         [](sim::rpc::call_arguments call) { return sim::value(call.args); });
        root_.expose_raw("kwargs",
                         [](sim::rpc::call_arguments call) { return sim::value(call.kwargs); });
        root_.expose("nothing", [] {});
        root_.expose("boom", []() -> int { throw std::invalid_argument("boom"); });
        // A custom type's envelope, which the client has no serializer for.
        root_.expose_raw("point", [](sim::rpc::call_arguments) {
            return sim::value(sim::map{{"__type__", sim::array{"Point", sim::array{1, 2}}}});
        });
        // Answers long after any test's timeout; let go at the end so that the runtime can stop.
        root_.expose("slow", [this] {
            std::unique_lock lock(mutex_);
            release_.wait_for(lock, 30s, [&] { return released_; });
            return 1;
        });
        math_.expose(
            "add", [](int a, int b, int scale) { return (a + b) * scale; }, arg("a"), arg("b"),
            arg("scale") = 1);
        calc_.add("math", math_);
        root_.add("calc", calc_);
        // Where an agent container keeps agent 3.
        agent_.expose("whoami", [] { return std::string("agent 3"); });
        agents_.add("3", agent_);
        root_.add("agents", agents_);
    }

    sim::runtime rt_;
    sim::rpc::router root_, calc_, math_, agents_, agent_;
    boost::fibers::mutex mutex_;
    boost::fibers::condition_variable release_;
    bool released_ = false;
    std::shared_ptr<sim::server> srv_;
    std::string url_;
};

// A listener that hands each accepted stream to `serve` in a fiber and keeps it open: a server
// that never answers, or one that answers garbage.
class raw_server {
  public:
    explicit raw_server(std::function<void(sim::stream&)> serve = {}) : serve_(std::move(serve)) {
        rt_.start();
        url_ = rt_.invoke([&] {
            listener_ = sim::listen_on(sim::address::tcp("127.0.0.1", 0), {});
            sim::spawn([this] {
                for (;;) {
                    boost::system::error_code ec;
                    auto s = listener_->accept(ec);
                    if (ec) return;
                    held_.push_back(std::move(s));
                    if (serve_) sim::spawn([this, s = held_.back().get()] { serve_(*s); });
                }
            });
            return listener_->local_address().to_string();
        });
    }
    raw_server(const raw_server&) = delete;
    raw_server& operator=(const raw_server&) = delete;
    ~raw_server() {
        rt_.invoke([&] {
            listener_->close();
            for (auto& s : held_)
                s->close();
        });
        rt_.stop();
        rt_.join();
    }

    const std::string& url() const { return url_; }

  private:
    sim::runtime rt_;
    std::function<void(sim::stream&)> serve_;
    std::unique_ptr<sim::listener> listener_;
    // Destroyed after the runtime has stopped: fibers may still read them until then.
    std::vector<std::unique_ptr<sim::stream>> held_;
    std::string url_;
};

struct timed_result {
    sim_test::process_result r;
    std::chrono::steady_clock::duration took;
};

timed_result timed_call(std::vector<std::string> args) {
    auto start = std::chrono::steady_clock::now();
    auto r = sim_call(std::move(args));
    return {std::move(r), std::chrono::steady_clock::now() - start};
}

const char* const summary_pattern =
    "calls: [0-9]+  errors: [0-9]+  wall: [0-9]+\\.[0-9]{3} s  calls/s: [0-9]+  latency us: "
    "p50 [0-9]+  p90 [0-9]+  p99 [0-9]+  max [0-9]+\n";

}  // namespace

TEST_CASE("sim-call prints the result as one line of JSON", "[sim-call]") {
    rpc_server server;
    auto r = sim_call({server.url(), "add", "1", "2"});
    CHECK(r.status == 0);
    CHECK(r.out == "3\n");
    CHECK(r.err.empty());

    r = sim_call({server.url(), "nothing"});
    CHECK(r.status == 0);
    CHECK(r.out == "null\n");

    // Envelopes of types the client does not know print raw instead of failing to decode.
    r = sim_call({server.url(), "point"});
    CHECK(r.status == 0);
    CHECK(r.out == "{\"__type__\": [\"Point\", [1, 2]]}\n");
}

TEST_CASE("sim-call reads arguments as JSON values, bare words as strings", "[sim-call]") {
    rpc_server server;
    auto r = sim_call({server.url(), "echo", "1", "\"abc\"", "[1,2]", "-1", "-2.5", "1.5", "hello",
                       "true", "null", "{\"a\": 1}", "1e3", "-", "-x", "two words", "[1,"});
    CHECK(r.status == 0);
    CHECK(r.out ==
          "[1, \"abc\", [1, 2], -1, -2.5, 1.5, \"hello\", true, null, {\"a\": 1}, 1000.0, "
          "\"-\", \"-x\", \"two words\", \"[1,\"]\n");
    CHECK(r.err.empty());

    // After a lone --, everything is an argument, even a known option.
    r = sim_call({server.url(), "echo", "-1", "--", "--kw", "--help", "-n"});
    CHECK(r.status == 0);
    CHECK(r.out == "[-1, \"--kw\", \"--help\", \"-n\"]\n");

    r = sim_call({server.url(), "echo"});
    CHECK(r.out == "[]\n");
}

TEST_CASE("sim-call prints integers beyond 64 bits as plain JSON numbers", "[sim-call]") {
    rpc_server server;
    // Over JSON the echo server gets and returns Python-sized integers.
    auto r =
        sim_call({server.url(), "echo", "18446744073709551616", "-9223372036854775809",
                  "{\"$bigint\": \"123456789012345678901234567890\"}", "{\"$float\": \"inf\"}"});
    CHECK(r.status == 0);
    // The other markers stay: plain JSON has no infinity.
    CHECK(r.out ==
          "[18446744073709551616, -9223372036854775809, 123456789012345678901234567890, "
          "{\"$float\": \"inf\"}]\n");
}

TEST_CASE("sim-call passes keyword arguments, split at the first '='", "[sim-call]") {
    rpc_server server;
    auto r = sim_call({server.url(), "kwargs", "--kw", "a=1", "--kw", "b=x=y", "--kw", "c=-3",
                       "--kw=d=[1]", "--kw", "e=", "--kw", "f=\"7\""});
    CHECK(r.status == 0);
    CHECK(r.out ==
          "{\"a\": 1, \"b\": \"x=y\", \"c\": -3, \"d\": [1], \"e\": \"\", \"f\": \"7\"}\n");

    r = sim_call({server.url(), "add", "1", "--kw", "b=-5"});
    CHECK(r.out == "-4\n");
    // Options may come anywhere, before the address too.
    r = sim_call({"--kw", "b=2", "-t", "5", server.url(), "add", "--kw", "a=40"});
    CHECK(r.status == 0);
    CHECK(r.out == "42\n");
}

TEST_CASE("sim-call calls functions of nested services by path", "[sim-call]") {
    rpc_server server;
    auto r = sim_call({server.url(), "calc/math/add", "1", "2", "--kw", "scale=3"});
    CHECK(r.status == 0);
    CHECK(r.out == "9\n");
    r = sim_call({server.url(), "calc/math/add", "1", "2"});
    CHECK(r.out == "3\n");
}

TEST_CASE("sim-call calls an agent named by the address", "[sim-call]") {
    rpc_server server;
    auto r = sim_call({server.url() + "/3", "whoami"});
    CHECK(r.status == 0);
    CHECK(r.out == "\"agent 3\"\n");
    r = sim_call({server.url() + "/4", "whoami"});
    CHECK(r.status == 1);
    CHECK(ends_with(r.err, "LookupError: Name \"4\" not found in \"agents\"\n"));
}

TEST_CASE("sim-call speaks the server's codec", "[sim-call]") {
    for (const char* codec : {"msgpack", "msgpack-lz4", "msgpack-blosc"}) {
        CAPTURE(codec);
        rpc_server server("tcp://127.0.0.1:0", {.codec = codec});
        auto r = sim_call({server.url(), "echo", "{\"$bytes\": \"00ff\"}", "{\"$float\": \"nan\"}",
                           "--codec", codec});
        CHECK(r.status == 0);
        CHECK(r.out == "[{\"$bytes\": \"00ff\"}, {\"$float\": \"nan\"}]\n");
        CHECK(r.err.empty());
        r = sim_call({"-c", codec, server.url(), "calc/math/add", "2", "3", "--kw", "scale=-1"});
        CHECK(r.out == "-5\n");
    }
}

TEST_CASE("sim-call prints a remote error's traceback and exits with status 1", "[sim-call]") {
    rpc_server server;
    auto r = sim_call({server.url(), "boom"});
    CHECK(r.status == 1);
    CHECK(r.out.empty());
    CHECK(ends_with(r.err, "ValueError: boom\n"));

    r = sim_call({server.url(), "nope"});
    CHECK(r.status == 1);
    CHECK(ends_with(r.err, "LookupError: Name \"nope\" not found in \"\"\n"));

    r = sim_call({server.url(), "calc/math/nope"});
    CHECK(r.status == 1);
    CHECK(ends_with(r.err, "LookupError: Name \"nope\" not found in \"calc/math\"\n"));

    r = sim_call({server.url(), "add", "x", "2"});
    CHECK(r.status == 1);
    CHECK(ends_with(r.err, "TypeError: add() argument 'a': expected int, got string \"x\"\n"));
}

TEST_CASE("sim-call exits with status 3 and one line when it cannot connect", "[sim-call]") {
    std::string closed_port;
    {
        raw_server gone;
        closed_port = gone.url();
    }
    auto r = sim_call({closed_port, "add", "1", "2"});
    CHECK(r.status == 3);
    CHECK(r.out.empty());
    CHECK(r.err.starts_with("sim-call: cannot connect to " + closed_port));
    CHECK(lines(r.err) == 1);

    sim_test::temp_dir dir;
    std::string missing = "ipc://[" + dir.file("missing.sock") + "]";
    r = sim_call({missing, "add"});
    CHECK(r.status == 3);
    CHECK(r.err.starts_with("sim-call: cannot connect to " + missing));
    CHECK(lines(r.err) == 1);
}

TEST_CASE("sim-call gives up on a call at its timeout", "[sim-call]") {
    rpc_server server;
    auto t = timed_call({server.url(), "slow", "--timeout", "0.3"});
    CHECK(t.r.status == 3);
    CHECK(t.r.out.empty());
    CHECK_THAT(t.r.err, Catch::StartsWith("sim-call: ") && Catch::Contains("timed out"));
    CHECK(lines(t.r.err) == 1);
    CHECK(t.took >= 300ms);
    CHECK(t.took < 5s);
}

TEST_CASE("sim-call gives up on a server that accepts and never reads", "[sim-call]") {
    raw_server silent;
    auto t = timed_call({silent.url(), "add", "1", "2", "-t", "0.3"});
    CHECK(t.r.status == 3);
    CHECK_THAT(t.r.err, Catch::StartsWith("sim-call: ") && Catch::Contains("timed out"));
    CHECK(lines(t.r.err) == 1);
    CHECK(t.took < 5s);

    // The same silence during a TLS handshake is a failure to connect.
    auto tls = timed_call({silent.url(), "add", "-t", "0.3", "--tls-ca", sim_test::cert("ca.pem"),
                           "--tls-cert", sim_test::cert("client.pem"), "--tls-key",
                           sim_test::cert("client.key")});
    CHECK(tls.r.status == 3);
    CHECK_THAT(tls.r.err, Catch::StartsWith("sim-call: cannot connect to "));
    CHECK(lines(tls.r.err) == 1);
    CHECK(tls.took < 5s);
}

TEST_CASE("sim-call reports a protocol error in one line", "[sim-call]") {
    // Answers the request with a frame that announces an empty payload.
    raw_server garbage([](sim::stream& s) {
        if (sim_test::read_frame(s).empty()) return;
        const std::byte empty_frame[4] = {};
        sim_test::write_bytes(s, empty_frame);
    });
    auto r = sim_call({garbage.url(), "add", "1", "2"});
    CHECK(r.status == 3);
    CHECK_THAT(r.err,
               Catch::StartsWith("sim-call: connection to ") && Catch::Contains("empty payload"));
    CHECK(lines(r.err) == 1);

    // A codec the server does not speak: it hangs up.
    rpc_server server("tcp://127.0.0.1:0", {.codec = "msgpack"});
    r = sim_call({server.url(), "add", "1", "2", "--codec", "json", "-t", "2"});
    CHECK(r.status == 3);
    CHECK_THAT(r.err, Catch::StartsWith("sim-call: connection to "));
    CHECK(lines(r.err) == 1);
}

TEST_CASE("sim-call usage errors exit with status 2", "[sim-call]") {
    rpc_server server;
    const std::string& url = server.url();
    auto usage = [](std::vector<std::string> args) {
        auto r = sim_call(std::move(args));
        CHECK(r.status == 2);
        CHECK(r.out.empty());
        CHECK_FALSE(r.err.empty());
        return r;
    };
    usage({});
    usage({url});  // no path
    CHECK_THAT(usage({url, "add", "--bogus"}).err, Catch::Contains("--bogus"));
    CHECK_THAT(usage({url, "add", "--tls-ca", sim_test::cert("ca.pem")}).err,
               Catch::Contains("tls"));
    usage({url, "add", "--tls-ca", sim_test::cert("ca.pem"), "--tls-cert",
           sim_test::cert("client.pem")});
    usage({url, "add", "--tls-server-name", "localhost"});
    usage({url, "add", "--tls-ca", "/nonexistent/ca.pem", "--tls-cert",
           sim_test::cert("client.pem"), "--tls-key", sim_test::cert("client.key")});
    CHECK_THAT(usage({url, "kwargs", "--kw", "novalue"}).err, Catch::Contains("NAME=VALUE"));
    usage({url, "kwargs", "--kw", "=1"});
    usage({url, "kwargs", "--kw", "a=1", "--kw", "a=2"});
    usage({url, "add", "--kw"});
    usage({url, "add", "--codec", "xml"});
    usage({url, "add", "--timeout", "-1"});
    usage({url, "add", "--timeout", "soon"});
    usage({url, "add", "--repeat", "0"});
    usage({url, "add", "--concurrency", "0"});
    usage({"tcp://127.0.0.1", "add"});
    usage({"foo://x", "add"});
    usage({"local://a", "add"});
    usage({url, ""});
    CHECK_THAT(usage({url, "echo", "{\"$bytes\": \"zz\"}"}).err, Catch::Contains("argument 1"));
    // JSON cannot carry bytes: nothing is sent.
    CHECK_THAT(usage({url, "echo", "{\"$bytes\": \"00\"}"}).err,
               Catch::Contains("json cannot encode bytes"));
}

TEST_CASE("sim-call --help documents the values and the exit statuses", "[sim-call]") {
    auto r = sim_call({"--help"});
    CHECK(r.status == 0);
    for (const char* text : {"--kw", "--codec", "--timeout", "--tls-ca", "--tls-cert", "--tls-key",
                             "--tls-server-name", "--repeat", "--concurrency", "--quiet",
                             "-1 a number", "Exit status: 0 success; 1 the remote function raised",
                             "2 usage error", "3 cannot connect", "msgpack-lz4"}) {
        CAPTURE(text);
        CHECK_THAT(r.out, Catch::Contains(text));
    }
    CHECK(sim_call({"http://example.com", "f", "-h"}).status == 0);
}

TEST_CASE("sim-call --repeat is a load generator", "[sim-call]") {
    rpc_server server;
    auto r = sim_call({server.url(), "add", "1", "2", "--repeat", "200", "--concurrency", "8"});
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    REQUIRE(r.out.starts_with("3\n"));
    CHECK_THAT(r.out.substr(2), Catch::Matches(summary_pattern));
    CHECK_THAT(r.out, Catch::Contains("calls: 200  errors: 0  "));

    r = sim_call({server.url(), "add", "1", "2", "-n", "50", "-k", "100", "--quiet"});
    CHECK(r.status == 0);
    CHECK(lines(r.out) == 1);
    CHECK_THAT(r.out,
               Catch::Matches(summary_pattern) && Catch::StartsWith("calls: 50  errors: 0  "));

    // Remote errors are counted, and the first one decides the status.
    r = sim_call({server.url(), "boom", "-n", "5", "-k", "2"});
    CHECK(r.status == 1);
    CHECK_THAT(r.out, Catch::Matches("calls: 5  errors: 5  .*latency us: -\n"));
    CHECK_THAT(r.err, Catch::StartsWith("ValueError: boom\n") && Catch::Contains("5 calls failed"));

    // A timeout ends the run instead of waiting out every call.
    auto t = timed_call({server.url(), "slow", "-n", "100", "-k", "2", "-t", "0.3"});
    CHECK(t.r.status == 3);
    CHECK_THAT(t.r.out, Catch::StartsWith("calls: 2  errors: 2  "));
    CHECK_THAT(t.r.err, Catch::Contains("timed out"));
    CHECK(t.took < 5s);
}

TEST_CASE("sim-call reaches servers on Unix sockets", "[sim-call]") {
    sim_test::temp_dir dir;
    rpc_server server("ipc://[" + dir.file("s.sock") + "]");
    CHECK(server.url() == "ipc://[" + dir.file("s.sock") + "]");
    auto r = sim_call({server.url(), "calc/math/add", "-1", "-2"});
    CHECK(r.status == 0);
    CHECK(r.out == "-3\n");
}

TEST_CASE("sim-call speaks TLS with client certificates", "[sim-call]") {
    sim::channel_options options;
    options.transport.tls = sim_test::server_tls();
    rpc_server server("tcp://127.0.0.1:0", options);
    const std::vector<std::string> tls = {"--tls-ca",   sim_test::cert("ca.pem"),
                                          "--tls-cert", sim_test::cert("client.pem"),
                                          "--tls-key",  sim_test::cert("client.key")};
    auto with_tls = [&](std::vector<std::string> args, std::vector<std::string> more = {}) {
        args.insert(args.end(), tls.begin(), tls.end());
        args.insert(args.end(), more.begin(), more.end());
        return sim_call(args);
    };
    auto r = with_tls({server.url(), "add", "20", "22"});
    CHECK(r.status == 0);
    CHECK(r.out == "42\n");
    CHECK(r.err.empty());

    r = with_tls({server.url(), "add", "1", "1"}, {"--tls-server-name", "localhost"});
    CHECK(r.out == "2\n");

    // The server's certificate does not carry this name.
    r = with_tls({server.url(), "add", "1", "1"}, {"--tls-server-name", "elsewhere", "-t", "2"});
    CHECK(r.status == 3);
    CHECK_THAT(r.err, Catch::StartsWith("sim-call: cannot connect to "));
    CHECK(lines(r.err) == 1);

    // Plain TCP to a TLS server.
    r = sim_call({server.url(), "add", "1", "1", "-t", "2"});
    CHECK(r.status == 3);
    CHECK(lines(r.err) == 1);
}

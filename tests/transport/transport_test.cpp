#include <catch2/catch.hpp>

#include <boost/fiber/operations.hpp>

#include <sim/channel/channel.hpp>
#include <sim/core/error.hpp>
#include <sim/transport/address.hpp>
#include <sim/transport/local_faults.hpp>
#include <sim/transport/stream.hpp>

#include "support/net.hpp"
#include "support/test_support.hpp"

using namespace std::chrono_literals;

TEST_CASE("aiomas addresses parse and print", "[address]") {
    auto a = sim::address::parse("tcp://127.0.0.1:5555/3");
    CHECK(a.kind == sim::address::scheme::tcp);
    CHECK(a.host == "127.0.0.1");
    CHECK(a.port == 5555);
    CHECK(a.agent == "3");
    CHECK(a.to_string() == "tcp://127.0.0.1:5555");
    CHECK(a.url("7") == "tcp://127.0.0.1:5555/7");
    CHECK(sim::address::parse("tcp://localhost:80").agent.empty());
    CHECK(sim::address::parse("tcp://localhost:80/").agent.empty());
    auto v6 = sim::address::parse("tcp://[::1]:5555/0");
    CHECK(v6.host == "::1");
    CHECK(v6.to_string() == "tcp://[::1]:5555");
    auto ipc = sim::address::parse("ipc://[/tmp/my socket]/12");
    CHECK(ipc.kind == sim::address::scheme::ipc);
    CHECK(ipc.path == "/tmp/my socket");
    CHECK(ipc.agent == "12");
    CHECK(ipc.to_string() == "ipc://[/tmp/my socket]");
    auto local = sim::address::parse("local://grid/0");
    CHECK(local.name == "grid");
    CHECK(local.agent == "0");

    for (const char* bad :
         {"127.0.0.1:5555", "udp://h:1", "tcp://h", "tcp://h:99999", "tcp://:1", "tcp://h:1x",
          "ipc:///tmp/x", "ipc://[]", "local://", "tcp://h:1/a/b", "tcp://[::1:5"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(sim::address::parse(bad), std::invalid_argument);
    }
    CHECK_THROWS_WITH(
        sim::address::parse("tcp://h"),
        Catch::StartsWith("invalid address \"tcp://h\": no port (expected tcp://host:port"));
}

TEST_CASE("every transport carries bytes both ways", "[transport]") {
    sim_test::temp_dir dir;
    for (const auto& t : sim_test::all_transports(dir)) {
        DYNAMIC_SECTION(t.name) {
            sim::runtime rt;
            rt.run([&] {
                auto listener = sim::listen_on(t.listen_at, t.server);
                sim::address at = listener->local_address();
                sim::spawn([&] {
                    boost::system::error_code ec;
                    auto s = listener->accept(ec);
                    REQUIRE(s);
                    s->handshake(ec);
                    REQUIRE_FALSE(ec);
                    // Echo until the end of the stream.
                    std::byte buf[1000];
                    for (;;) {
                        std::size_t n = s->read_some(buf, ec);
                        if (ec) break;
                        sim_test::write_bytes(*s, std::span(buf, n));
                    }
                });
                boost::system::error_code ec;
                auto c = sim::connect_stream(at, t.client, ec);
                REQUIRE_FALSE(ec);
                REQUIRE(c);
                std::vector<std::byte> big(300000);
                for (std::size_t i = 0; i < big.size(); ++i)
                    big[i] = static_cast<std::byte>(i * 7);
                std::vector<std::byte> got;
                sim::spawn([&] { sim_test::write_bytes(*c, big); });
                while (got.size() < big.size()) {
                    std::byte buf[8192];
                    std::size_t n = c->read_some(buf, ec);
                    REQUIRE_FALSE(ec);
                    got.insert(got.end(), buf, buf + n);
                }
                CHECK(got == big);
                CHECK_FALSE(c->peer().empty());
                c->close();
                listener->close();
            });
        }
    }
}

TEST_CASE("connecting to nothing fails with a clear error", "[transport]") {
    sim_test::temp_dir dir;
    sim::runtime rt;
    rt.run([&] {
        boost::system::error_code ec;
        CHECK_FALSE(sim::connect_stream(sim::address::ipc(dir.file("none")), {}, ec));
        CHECK(ec);
        CHECK_FALSE(
            sim::connect_stream(sim::address::local(sim_test::unique_name("none")), {}, ec));
        CHECK(ec == boost::asio::error::connection_refused);
        // A port nobody listens on: listen, note the port, stop listening.
        auto l = sim::listen_on(sim::address::tcp("127.0.0.1", 0), {});
        auto port = l->local_address().port;
        l->close();
        CHECK_FALSE(sim::connect_stream(sim::address::tcp("127.0.0.1", port), {}, ec));
        CHECK(ec == boost::asio::error::connection_refused);
    });
}

TEST_CASE("listening where something listens is an error", "[transport]") {
    sim::runtime rt;
    rt.run([&] {
        auto name = sim_test::unique_name("taken");
        auto first = sim::listen_on(sim::address::local(name), {});
        CHECK_THROWS_AS(sim::listen_on(sim::address::local(name), {}), sim::connection_error);
        auto tcp = sim::listen_on(sim::address::tcp("127.0.0.1", 0), {});
        CHECK_THROWS_AS(sim::listen_on(tcp->local_address(), {}), sim::connection_error);
    });
}

TEST_CASE("a stale Unix socket file is replaced, and the listener removes its file",
          "[transport]") {
    sim_test::temp_dir dir;
    sim::runtime rt;
    rt.run([&] {
        auto path = dir.file("stale.sock");
        {
            auto l = sim::listen_on(sim::address::ipc(path), {});
            CHECK(std::filesystem::exists(path));
            l->close();
            CHECK_FALSE(std::filesystem::exists(path));
        }
        // A socket file left behind by a process that died.
        {
            boost::asio::local::stream_protocol::acceptor a(
                rt.io(), boost::asio::local::stream_protocol::endpoint(path));
        }
        CHECK(std::filesystem::exists(path));
        auto l = sim::listen_on(sim::address::ipc(path), {});
        boost::system::error_code ec;
        CHECK(sim::connect_stream(sim::address::ipc(path), {}, ec));
    });
}

TEST_CASE("TLS refuses a client without a valid certificate", "[transport][tls]") {
    sim::runtime rt;
    rt.run([&] {
        sim::transport_options server;
        server.tls = sim_test::server_tls();
        auto listener = sim::listen_on(sim::address::tcp("127.0.0.1", 0), server);
        sim::address at = listener->local_address();
        int accepted = 0;
        std::vector<std::unique_ptr<sim::stream>> keep;
        sim::spawn([&] {
            boost::system::error_code ec;
            while (auto s = listener->accept(ec)) {
                // Each handshake in its own fiber, as start_server does.
                sim::spawn([&, s = std::shared_ptr<sim::stream>(std::move(s))] {
                    boost::system::error_code hec;
                    s->handshake(hec);
                    if (!hec) ++accepted;
                    s->close();
                });
            }
        });

        // A certificate from another CA. With TLS 1.3 the client may finish its handshake before
        // the server refuses it; then its first read fails instead.
        {
            sim::transport_options o;
            o.tls = sim::tls_options{sim_test::cert("ca.pem"), sim_test::cert("intruder.pem"),
                                     sim_test::cert("intruder.key")};
            boost::system::error_code ec;
            auto s = sim::connect_stream(at, o, ec);
            if (s) {
                std::byte b[1];
                s->read_some(b, ec);
            }
            CHECK(ec);
        }
        // The server's certificate does not carry the name the client expects.
        sim::tls_options wrong_name = sim_test::client_tls();
        wrong_name.server_name = "elsewhere.example";
        boost::system::error_code ec;
        sim::transport_options o;
        o.tls = wrong_name;
        CHECK_FALSE(sim::connect_stream(at, o, ec));
        CHECK(ec);
        // The client does not trust the server's CA.
        sim::tls_options distrust = sim_test::client_tls();
        distrust.ca_file = sim_test::cert("rogue.pem");
        o.tls = distrust;
        CHECK_FALSE(sim::connect_stream(at, o, ec));
        // And the valid client gets in.
        o.tls = sim_test::client_tls();
        auto good = sim::connect_stream(at, o, ec);
        CHECK(good);
        CHECK(sim_test::eventually([&] { return accepted == 1; }));
        listener->close();
    });
}

TEST_CASE("TLS certificate files that do not load are a clear error", "[transport][tls]") {
    sim::runtime rt;
    rt.run([&] {
        sim::transport_options o;
        o.tls = sim::tls_options{"/nonexistent/ca.pem", "/nonexistent/c.pem", "/nonexistent/c.key"};
        CHECK_THROWS_WITH(sim::listen_on(sim::address::tcp("127.0.0.1", 0), o),
                          Catch::StartsWith("TLS: cannot load the certificates"));
        CHECK_THROWS_AS(sim::listen_on(sim::address::ipc("/tmp/x"), o), std::invalid_argument);
    });
}

TEST_CASE("the in-process transport crosses runtimes on different threads", "[transport][local]") {
    sim::runtime server_rt({.name = "server"});
    server_rt.start();
    auto name = sim_test::unique_name("cross");
    auto listener = server_rt.invoke([&] { return sim::listen_on(sim::address::local(name), {}); });
    server_rt.spawn([&] {
        boost::system::error_code ec;
        auto s = listener->accept(ec);
        std::byte buf[64];
        while (true) {
            std::size_t n = s->read_some(buf, ec);
            if (ec) break;
            sim_test::write_bytes(*s, std::span(buf, n));
        }
    });
    sim::runtime client_rt;
    client_rt.run([&] {
        boost::system::error_code ec;
        auto c = sim::connect_stream(sim::address::local(name), {}, ec);
        REQUIRE(c);
        for (int i = 0; i < 100; ++i) {
            std::byte out[1] = {static_cast<std::byte>(i)};
            sim_test::write_bytes(*c, out);
            std::byte in[1];
            REQUIRE(c->read_some(in, ec) == 1);
            CHECK(in[0] == out[0]);
        }
        c->close();
    });
    server_rt.invoke([&] { listener->close(); });
    server_rt.stop();
    server_rt.join();
}

TEST_CASE("local faults: close at a byte, drop and delay frames", "[transport][local]") {
    sim::runtime rt;
    rt.run([&] {
        auto name = sim_test::unique_name("faults");
        auto listener = sim::listen_on(sim::address::local(name), {});
        auto faults = std::make_shared<sim::local_faults>();
        faults->close_to_server_at = 10;
        sim::transport_options o;
        o.faults = faults;
        boost::system::error_code ec;
        auto c = sim::connect_stream(sim::address::local(name), o, ec);
        auto s = listener->accept(ec);
        std::vector<std::byte> data(25, std::byte{1});
        boost::asio::const_buffer b(data.data(), data.size());
        c->write(std::span(&b, 1), ec);
        CHECK(ec);  // the connection broke while writing
        std::byte buf[100];
        std::size_t got = 0;
        while (true) {
            std::size_t n = s->read_some(buf, ec);
            if (ec) break;
            got += n;
        }
        CHECK(got == 10);
        CHECK(ec == boost::asio::error::eof);

        // Frames: drop the second, delay the third.
        auto frames = std::make_shared<sim::local_faults>();
        std::vector<std::uint64_t> seen;
        frames->on_frame = [&](sim::direction d, std::uint64_t i, std::span<const std::byte>) {
            CHECK(d == sim::direction::to_server);
            seen.push_back(i);
            if (i == 1) return sim::fault_action::drop();
            if (i == 2) return sim::fault_action::later(30ms);
            return sim::fault_action::deliver();
        };
        o.faults = frames;
        auto c2 = sim::connect_stream(sim::address::local(name), o, ec);
        auto s2 = listener->accept(ec);
        auto frame = [](std::uint8_t tag) {
            std::vector<std::byte> f(5);
            sim::write_frame_header(f.data(), 1);
            f[4] = static_cast<std::byte>(tag);
            return f;
        };
        std::vector<std::byte> all;
        for (std::uint8_t tag : {0xa, 0xb, 0xc, 0xd}) {
            auto f = frame(tag);
            // Split the bytes oddly: frames must be cut at their boundaries regardless.
            all.insert(all.end(), f.begin(), f.end());
        }
        sim_test::write_bytes(*c2, std::span(all).first(7));
        sim_test::write_bytes(*c2, std::span(all).subspan(7));
        auto start = std::chrono::steady_clock::now();
        CHECK(sim_test::read_frame(*s2)[4] == std::byte{0xa});
        CHECK(sim_test::read_frame(*s2)[4] == std::byte{0xc});
        CHECK(std::chrono::steady_clock::now() - start >= 30ms);
        CHECK(sim_test::read_frame(*s2)[4] == std::byte{0xd});  // waited behind the delayed frame
        CHECK(seen == std::vector<std::uint64_t>{0, 1, 2, 3});
    });
}

TEST_CASE("a slow in-process reader makes the writer wait, not grow memory", "[transport][local]") {
    sim::runtime rt;
    rt.run([&] {
        auto name = sim_test::unique_name("slow");
        sim::transport_options small;
        small.local_capacity = 1000;
        auto listener = sim::listen_on(sim::address::local(name), small);
        boost::system::error_code ec;
        auto c = sim::connect_stream(sim::address::local(name), small, ec);
        auto s = listener->accept(ec);
        bool written = false;
        sim::spawn([&] {
            std::vector<std::byte> data(10000, std::byte{7});
            sim_test::write_bytes(*c, data);
            written = true;
        });
        for (int i = 0; i < 20; ++i)
            boost::this_fiber::yield();
        CHECK_FALSE(written);  // blocked after 1000 bytes
        std::size_t got = 0;
        std::byte buf[256];
        while (got < 10000)
            got += s->read_some(buf, ec);
        CHECK(sim_test::eventually([&] { return written; }));
    });
}

TEST_CASE("a client that stalls the TLS handshake holds up nobody and is dropped",
          "[transport][tls]") {
    sim::runtime rt;
    rt.run([&] {
        sim::channel_options server;
        server.transport.tls = sim_test::server_tls();
        server.transport.handshake_timeout = 200ms;
        auto srv = sim::start_server(
            "tcp://127.0.0.1:0",
            [](sim::channel ch) {
                for (;;) {
                    auto req = ch.recv();
                    req.reply(req.content());
                }
            },
            server);
        // A plain TCP connection that never says a word.
        boost::system::error_code ec;
        auto silent = sim::connect_stream(srv.local_address(), {}, ec);
        REQUIRE(silent);
        // A proper client is served at once regardless.
        sim::channel_options client;
        client.transport.tls = sim_test::client_tls();
        auto start = std::chrono::steady_clock::now();
        auto ch = sim::open_connection(srv.local_address(), client);
        CHECK(ch.send("hello") == sim::value("hello"));
        CHECK(std::chrono::steady_clock::now() - start < 150ms);
        // The silent one is hung up on after the handshake timeout.
        std::byte b[1];
        silent->read_some(b, ec);
        CHECK(ec);
        CHECK(std::chrono::steady_clock::now() - start >= 150ms);
    });
}

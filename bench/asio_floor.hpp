#pragma once
// The physical floor of a round trip over a connection: a raw Asio ping-pong of a 64-byte frame,
// both sockets on one io_context on the calling thread (channel_bench.cpp, agent_bench.cpp).

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include <sim/core/asio.hpp>

#include "bench_support.hpp"
#include "net_support.hpp"

namespace sim::bench {

namespace asio = boost::asio;

// Each raw floor is measured over this much wall time (five rounds, the median taken).
inline constexpr auto raw_floor_budget = std::chrono::milliseconds(500);

// ---- the floor: a raw Asio ping-pong -----------------------------------------------------------

// Client and server sockets of one connection on one io_context, driven by plain Asio callbacks:
// the client writes a frame_bytes frame (4-byte big-endian length, then the payload) and reads
// the echo; the server reads the header, then the payload, and writes the frame back. One op is
// one round trip. The io_context is built as the runtime builds its own (no concurrency hint), so
// both pay the same locking in Asio's scheduler.
template <class Protocol>
class asio_pingpong {
  public:
    explicit asio_pingpong(const typename Protocol::endpoint& listen_at)
        : client_(io_), server_(io_) {
        typename Protocol::acceptor acceptor(io_, listen_at);
        client_.connect(acceptor.local_endpoint());
        acceptor.accept(server_);
        if constexpr (std::is_same_v<Protocol, asio::ip::tcp>) {
            // As sim's TCP transport does: without it Nagle holds back the echo.
            client_.set_option(asio::ip::tcp::no_delay(true));
            server_.set_option(asio::ip::tcp::no_delay(true));
        }
        constexpr auto payload = static_cast<std::uint32_t>(frame_bytes - header_bytes);
        request_.fill(std::byte{'x'});
        for (std::size_t i = 0; i < header_bytes; ++i) {
            request_[i] = static_cast<std::byte>(payload >> (8 * (header_bytes - 1 - i)));
        }
        server_read_header();
    }
    asio_pingpong(const asio_pingpong&) = delete;
    asio_pingpong& operator=(const asio_pingpong&) = delete;

    SIM_BENCH_OP void operator()() {
        remaining_ = 1;
        client_send();
        while (remaining_ > 0)
            io_.run_one();
    }

    std::size_t payload_size() const { return frame_bytes; }

    std::string check() {
        reply_.fill(std::byte{0});
        (*this)();
        if (!error_.empty()) return error_;
        return reply_ == request_ ? "" : "the raw echo differs from the request";
    }

  private:
    static constexpr std::size_t header_bytes = 4;
    using frame = std::array<std::byte, frame_bytes>;

    static std::size_t payload_length(const frame& f) {
        std::size_t n = 0;
        for (std::size_t i = 0; i < header_bytes; ++i)
            n = n << 8 | static_cast<std::size_t>(f[i]);
        return n;
    }

    void fail(const boost::system::error_code& ec) {
        error_ = "raw ping-pong: " + ec.message();
        remaining_ = 0;
    }

    void client_send() {
        asio::async_write(client_, asio::buffer(request_),
                          [this](boost::system::error_code ec, std::size_t) {
                              if (ec) return fail(ec);
                              client_read_header();
                          });
    }

    void client_read_header() {
        asio::async_read(client_, asio::buffer(reply_.data(), header_bytes),
                         [this](boost::system::error_code ec, std::size_t) {
                             if (ec) return fail(ec);
                             client_read_payload();
                         });
    }

    void client_read_payload() {
        const std::size_t n = payload_length(reply_);
        if (n > frame_bytes - header_bytes) return fail(asio::error::message_size);
        asio::async_read(client_, asio::buffer(reply_.data() + header_bytes, n),
                         [this](boost::system::error_code ec, std::size_t) {
                             if (ec) return fail(ec);
                             if (--remaining_ > 0) client_send();
                         });
    }

    void server_read_header() {
        asio::async_read(server_, asio::buffer(echo_.data(), header_bytes),
                         [this](boost::system::error_code ec, std::size_t) {
                             if (ec) return fail(ec);
                             server_read_payload();
                         });
    }

    void server_read_payload() {
        const std::size_t n = payload_length(echo_);
        if (n > frame_bytes - header_bytes) return fail(asio::error::message_size);
        asio::async_read(server_, asio::buffer(echo_.data() + header_bytes, n),
                         [this, n](boost::system::error_code ec, std::size_t) {
                             if (ec) return fail(ec);
                             server_write(header_bytes + n);
                         });
    }

    void server_write(std::size_t n) {
        asio::async_write(server_, asio::buffer(echo_.data(), n),
                          [this](boost::system::error_code ec, std::size_t) {
                              if (ec) return fail(ec);
                              server_read_header();
                          });
    }

    asio::io_context io_;
    typename Protocol::socket client_;
    typename Protocol::socket server_;
    frame request_{};
    frame reply_{};
    frame echo_{};
    std::uint64_t remaining_ = 0;
    std::string error_;
};

using tcp_pingpong = asio_pingpong<asio::ip::tcp>;
using unix_pingpong = asio_pingpong<asio::local::stream_protocol>;

inline tcp_pingpong make_tcp_pingpong() {
    return tcp_pingpong(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
}

// The connected sockets outlive the socket file: `dir` goes once they are made.
inline unix_pingpong make_unix_pingpong() {
    const temp_dir dir;
    return unix_pingpong(asio::local::stream_protocol::endpoint((dir.path() / "x.sock").string()));
}

inline std::string raw_floor_key(transport t) {
    return "floor/asio-pingpong/" + transport_name(t);
}

inline double raw_ns_per_round_trip(transport t) {
    if (t == transport::tcp) {
        return floor_ns_per_op(raw_floor_key(t), make_tcp_pingpong, raw_floor_budget);
    }
    return floor_ns_per_op(raw_floor_key(t), make_unix_pingpong, raw_floor_budget);
}

}  // namespace sim::bench

// TCP, Unix domain sockets and TLS over TCP, on Asio, used from fibers through sim::use_fiber.

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <boost/asio/ssl.hpp>

#include <sim/core/error.hpp>
#include <sim/core/log.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/runtime/use_fiber.hpp>
#include <sim/runtime/wait_queue.hpp>
#include <sim/transport/local_faults.hpp>
#include <sim/transport/stream.hpp>

#include "transport/local_transport.hpp"

namespace sim {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol;

namespace {

runtime& current_runtime() {
    runtime* rt = runtime::current();
    if (rt == nullptr) throw std::logic_error("sim transports need a fiber of a sim::runtime");
    return *rt;
}

std::string endpoint_name(const tcp::endpoint& ep) {
    auto a = ep.address();
    std::string host = a.to_string();
    if (a.is_v6()) host = "[" + host + "]";
    return host + ":" + std::to_string(ep.port());
}

// Runs `op`, which suspends the fiber on an operation of `socket`, and closes the socket if the
// operation has not finished after `timeout`: it then fails, and `ec` says timed_out.
template <class Socket, class Op>
void with_timeout(Socket& socket, std::chrono::milliseconds timeout, boost::system::error_code& ec,
                  Op&& op) {
    struct shared {
        bool done = false;
        bool expired = false;
    };
    auto state = std::make_shared<shared>();
    asio::steady_timer timer(socket.get_executor(), timeout);
    // The handler may run after this frame is gone (a cancelled wait still completes): it holds
    // the state, and touches the socket only while the operation is still running.
    timer.async_wait([state, &socket](boost::system::error_code wait_ec) {
        if (wait_ec || state->done) return;
        state->expired = true;
        boost::system::error_code ignored;
        socket.close(ignored);
    });
    op();
    state->done = true;
    timer.cancel();
    if (state->expired) ec = asio::error::timed_out;
}

template <class Stream>
class asio_stream final : public stream {
  public:
    template <class... Args>
    asio_stream(std::string peer, Args&&... args)
        : stream_(std::forward<Args>(args)...), peer_(std::move(peer)) {}

    std::size_t read_some(std::span<std::byte> buffer, boost::system::error_code& ec) override {
        return stream_.async_read_some(asio::buffer(buffer.data(), buffer.size()), use_fiber[ec]);
    }

    void write(std::span<const asio::const_buffer> buffers,
               boost::system::error_code& ec) override {
        asio::async_write(stream_, buffers, use_fiber[ec]);
    }

    void close() noexcept override {
        boost::system::error_code ignored;
        auto& socket = lowest();
        socket.shutdown(asio::socket_base::shutdown_both, ignored);
        socket.close(ignored);
    }

    std::string peer() const override { return peer_; }

    Stream& get() noexcept { return stream_; }

  private:
    auto& lowest() noexcept {
        if constexpr (requires { stream_.lowest_layer(); }) {
            return stream_.lowest_layer();
        } else {
            return stream_;
        }
    }

    Stream stream_;
    std::string peer_;
};

using tcp_stream = asio_stream<tcp::socket>;
using unix_stream = asio_stream<unix_socket::socket>;
using tls_stream = asio_stream<asio::ssl::stream<tcp::socket>>;

// An accepted TLS connection: the handshake runs in the connection's own fiber, with a deadline,
// so that a client that stalls or fails it holds up nobody else. It keeps the context alive.
class tls_server_stream final : public stream {
  public:
    tls_server_stream(std::string peer, tcp::socket socket, std::shared_ptr<asio::ssl::context> ctx,
                      std::chrono::milliseconds timeout)
        : ctx_(std::move(ctx)),
          inner_(std::move(peer), std::move(socket), *ctx_),
          timeout_(timeout) {}

    void handshake(boost::system::error_code& ec) override {
        auto& ssl = inner_.get();
        with_timeout(ssl.lowest_layer(), timeout_, ec,
                     [&] { ssl.async_handshake(asio::ssl::stream_base::server, use_fiber[ec]); });
        if (ec)
            log::get("transport")
                ->warn("TLS handshake with {} failed: {}", inner_.peer(), ec.message());
    }
    std::size_t read_some(std::span<std::byte> b, boost::system::error_code& ec) override {
        return inner_.read_some(b, ec);
    }
    void write(std::span<const asio::const_buffer> b, boost::system::error_code& ec) override {
        inner_.write(b, ec);
    }
    void close() noexcept override { inner_.close(); }
    std::string peer() const override { return inner_.peer(); }

  private:
    std::shared_ptr<asio::ssl::context> ctx_;
    tls_stream inner_;
    std::chrono::milliseconds timeout_;
};

// aiomas' contexts (util.make_ssl_*_context) allow TLS 1.2 only; we allow 1.2 and later.
std::shared_ptr<asio::ssl::context> make_tls_context(const tls_options& o, bool server) {
    auto ctx = std::make_shared<asio::ssl::context>(server ? asio::ssl::context::tls_server
                                                           : asio::ssl::context::tls_client);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1 | asio::ssl::context::no_compression |
                     asio::ssl::context::single_dh_use);
    try {
        ctx->load_verify_file(o.ca_file);
        ctx->use_certificate_chain_file(o.cert_file);
        ctx->use_private_key_file(o.key_file, asio::ssl::context::pem);
    } catch (const boost::system::system_error& e) {
        throw connection_error("TLS: cannot load the certificates (ca " + o.ca_file + ", cert " +
                               o.cert_file + ", key " + o.key_file + "): " + e.what());
    }
    // Both sides verify the other: a client without a valid certificate is refused.
    ctx->set_verify_mode(asio::ssl::verify_peer |
                         (server ? asio::ssl::verify_fail_if_no_peer_cert : 0));
    return ctx;
}

template <class Socket>
void tcp_tune(Socket& socket) {
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
}

// Name resolution within `timeout`. Asio runs getaddrinfo on a thread of its own, where nothing
// interrupts it: at the deadline the fiber stops waiting and the lookup ends in the background,
// into state it shares with its handler.
tcp::resolver::results_type resolve_within(runtime& rt, const address& to,
                                           std::chrono::milliseconds timeout,
                                           boost::system::error_code& ec) {
    struct shared {
        explicit shared(asio::io_context& io) : resolver(io) {}
        tcp::resolver resolver;
        tcp::resolver::results_type results;
        boost::system::error_code ec;
        bool done = false;
        wait_queue finished;
    };
    auto st = std::make_shared<shared>(rt.io());
    st->resolver.async_resolve(to.host, std::to_string(to.port),
                               [st](boost::system::error_code e, tcp::resolver::results_type r) {
                                   st->ec = e;
                                   st->results = std::move(r);
                                   st->done = true;
                                   st->finished.notify_all();
                               });
    if (!st->finished.wait_for(timeout, [&] { return st->done; })) {
        st->resolver.cancel();
        ec = asio::error::timed_out;
        return {};
    }
    ec = st->ec;
    return std::move(st->results);
}

std::unique_ptr<stream> connect_tcp(runtime& rt, const address& to, const transport_options& o,
                                    boost::system::error_code& ec) {
    // One deadline for every step of connecting: a caller's timeout is the whole wait.
    const auto until = std::chrono::steady_clock::now() + o.handshake_timeout;
    auto left = [&] {
        return std::max(
            std::chrono::milliseconds(0),
            std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()));
    };
    auto endpoints = resolve_within(rt, to, left(), ec);
    if (ec) return nullptr;
    tcp::socket socket(rt.io());
    tcp::endpoint connected;
    with_timeout(socket, left(), ec,
                 [&] { connected = asio::async_connect(socket, endpoints, use_fiber[ec]); });
    if (ec) return nullptr;
    tcp_tune(socket);
    std::string peer = endpoint_name(connected);
    if (!o.tls) return std::make_unique<tcp_stream>(std::move(peer), std::move(socket));

    auto ctx = make_tls_context(*o.tls, false);
    auto tls = std::make_unique<tls_stream>(std::move(peer), std::move(socket), *ctx);
    const std::string& name = o.tls->server_name.empty() ? to.host : o.tls->server_name;
    auto& ssl = tls->get();
    if (o.tls->verify_server_name) ssl.set_verify_callback(asio::ssl::host_name_verification(name));
    SSL_set_tlsext_host_name(ssl.native_handle(), name.c_str());
    // OpenSSL keeps its own reference to the context: `ctx` may go when this returns.
    with_timeout(ssl.lowest_layer(), left(), ec,
                 [&] { ssl.async_handshake(asio::ssl::stream_base::client, use_fiber[ec]); });
    if (ec) return nullptr;
    return tls;
}

std::unique_ptr<stream> connect_unix(runtime& rt, const address& to,
                                     boost::system::error_code& ec) {
    unix_socket::socket socket(rt.io());
    socket.async_connect(unix_socket::endpoint(to.path), use_fiber[ec]);
    if (ec) return nullptr;
    return std::make_unique<unix_stream>(to.path, std::move(socket));
}

class tcp_listener final : public listener {
  public:
    tcp_listener(runtime& rt, const address& at, const transport_options& o)
        : acceptor_(rt.io()), host_(at.host) {
        boost::system::error_code ec;
        tcp::resolver resolver(rt.io());
        auto endpoints = resolver.resolve(at.host, std::to_string(at.port), ec);
        if (ec || endpoints.empty()) {
            throw connection_error("cannot listen on " + at.to_string() + ": " +
                                   (ec ? ec.message() : "no such host"));
        }
        tcp::endpoint ep = *endpoints.begin();
        acceptor_.open(ep.protocol(), ec);
        if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) acceptor_.bind(ep, ec);
        if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) throw connection_error("cannot listen on " + at.to_string() + ": " + ec.message());
        if (o.tls) tls_ = make_tls_context(*o.tls, true);
        handshake_timeout_ = o.handshake_timeout;
    }

    std::unique_ptr<stream> accept(boost::system::error_code& ec) override {
        tcp::socket socket = acceptor_.async_accept(use_fiber[ec]);
        if (ec) return nullptr;
        tcp_tune(socket);
        boost::system::error_code peer_ec;
        std::string peer = endpoint_name(socket.remote_endpoint(peer_ec));
        if (!tls_) return std::make_unique<tcp_stream>(std::move(peer), std::move(socket));
        return std::make_unique<tls_server_stream>(std::move(peer), std::move(socket), tls_,
                                                   handshake_timeout_);
    }

    void close() noexcept override {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
    }

    address local_address() const override {
        boost::system::error_code ec;
        auto ep = acceptor_.local_endpoint(ec);
        return address::tcp(host_, ep.port());
    }

  private:
    tcp::acceptor acceptor_;
    std::string host_;
    std::shared_ptr<asio::ssl::context> tls_;
    std::chrono::milliseconds handshake_timeout_{};
};

class unix_listener final : public listener {
  public:
    unix_listener(runtime& rt, const address& at) : acceptor_(rt.io()), path_(at.path) {
        // A socket file left by a process that died would make bind fail; asyncio removes it too.
        struct stat st {};
        if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path_.c_str());
        boost::system::error_code ec;
        unix_socket::endpoint ep(path_);
        acceptor_.open(ep.protocol(), ec);
        if (!ec) acceptor_.bind(ep, ec);
        if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) throw connection_error("cannot listen on " + at.to_string() + ": " + ec.message());
    }
    ~unix_listener() override { close(); }

    std::unique_ptr<stream> accept(boost::system::error_code& ec) override {
        unix_socket::socket socket = acceptor_.async_accept(use_fiber[ec]);
        if (ec) return nullptr;
        return std::make_unique<unix_stream>(path_, std::move(socket));
    }

    void close() noexcept override {
        if (!acceptor_.is_open()) return;
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        ::unlink(path_.c_str());
    }

    address local_address() const override { return address::ipc(path_); }

  private:
    unix_socket::acceptor acceptor_;
    std::string path_;
};

}  // namespace

std::unique_ptr<stream> connect_stream(const address& to, const transport_options& options,
                                       boost::system::error_code& ec) {
    runtime& rt = current_runtime();
    if (options.tls && to.kind != address::scheme::tcp) {
        throw std::invalid_argument("TLS works over tcp:// addresses only, not " + to.to_string());
    }
    switch (to.kind) {
        case address::scheme::tcp:
            return connect_tcp(rt, to, options, ec);
        case address::scheme::ipc:
            return connect_unix(rt, to, ec);
        case address::scheme::local:
            return detail::connect_local(rt, to, options, ec);
    }
    return nullptr;
}

std::unique_ptr<listener> listen_on(const address& at, const transport_options& options) {
    runtime& rt = current_runtime();
    if (options.tls && at.kind != address::scheme::tcp) {
        throw std::invalid_argument("TLS works over tcp:// addresses only, not " + at.to_string());
    }
    switch (at.kind) {
        case address::scheme::tcp:
            return std::make_unique<tcp_listener>(rt, at, options);
        case address::scheme::ipc:
            return std::make_unique<unix_listener>(rt, at);
        case address::scheme::local:
            return detail::listen_local(rt, at, options);
    }
    return nullptr;
}

}  // namespace sim

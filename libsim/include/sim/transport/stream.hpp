#pragma once
/// Byte streams and listeners over TCP, Unix sockets, TLS and the in-process transport.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include <sim/core/asio.hpp>
#include <sim/transport/address.hpp>

namespace sim {

struct local_faults;

/// Mutual TLS as aiomas sets it up (aiomas-protocol.md §5.3): TLS 1.2 or later, certificates
/// from PEM files, the peer's certificate verified against `ca_file` on both sides (a client
/// without a valid certificate is refused), and the server's host name checked by the client.
struct tls_options {
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
    /// The name the server's certificate must carry; empty: the host of the address.
    std::string server_name;
    bool verify_server_name = true;
};

/// How to connect or listen.
struct transport_options {
    /// TLS over TCP when set (tcp:// addresses only).
    std::optional<tls_options> tls;
    /// Faults to inject on an in-process connection (local:// only): tests.
    std::shared_ptr<local_faults> faults;
    /// Bytes an in-process connection buffers per direction before the writer waits.
    std::size_t local_capacity = std::size_t{4} << 20;
    /// How long connecting may take in all (resolving the name, TCP's handshake, TLS's), and
    /// how long a server waits for a client's TLS handshake; a peer that stalls is dropped
    /// after this.
    std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
};

/// A connected byte stream. Its operations suspend the calling fiber, which must run on the
/// runtime the stream was made on. One fiber may read while another writes.
class stream {
  public:
    virtual ~stream() = default;

    /// Reads at least one byte; 0 with `ec` == asio::error::eof at the end of the stream.
    virtual std::size_t read_some(std::span<std::byte> buffer, boost::system::error_code& ec) = 0;
    /// Writes every byte of every buffer, in order.
    virtual void write(std::span<const boost::asio::const_buffer> buffers,
                       boost::system::error_code& ec) = 0;
    /// Closes both directions; reads and writes in progress end with an error. Idempotent.
    virtual void close() noexcept = 0;
    /// The peer, as aiomas' origin names it: "127.0.0.1:5555", a socket path, "local://name".
    virtual std::string peer() const = 0;
    /// Completes what accepting left to do (the server's TLS handshake) before the first read;
    /// a no-op for other transports. Listeners leave it to the connection's own fiber so that
    /// one slow peer cannot hold up accepting the others.
    virtual void handshake(boost::system::error_code& ec) { ec = {}; }
};

/// Accepts streams on an address.
class listener {
  public:
    virtual ~listener() = default;
    /// Waits for the next connection; fails with `ec` once closed.
    virtual std::unique_ptr<stream> accept(boost::system::error_code& ec) = 0;
    /// Stops accepting; a waiting accept() ends with operation_aborted. Idempotent.
    virtual void close() noexcept = 0;
    /// Where it listens, with the real port when 0 was asked for.
    virtual address local_address() const = 0;
};

/// Connects from a fiber of the current runtime; on failure returns nullptr and sets `ec`.
std::unique_ptr<stream> connect_stream(const address& to, const transport_options& options,
                                       boost::system::error_code& ec);

/// Listens on `at` with the current runtime. Throws `sim::connection_error` when it cannot bind
/// (address in use, no permission, a name already taken).
std::unique_ptr<listener> listen_on(const address& at, const transport_options& options);

}  // namespace sim

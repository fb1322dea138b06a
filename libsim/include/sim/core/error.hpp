#pragma once
/// The exception hierarchy of libsim's user API, and the error codes used inside.
///
/// The contract:
/// - Everything a user calls (codecs, channels, connections, proxies, routers, containers,
///   clocks, scenarios) reports failure by throwing: a `sim::error` (below) for what the world
///   did (a peer, the network, a file), `std::invalid_argument` for an argument that cannot be
///   right, `std::logic_error` for a call in the wrong state (a second answer to a request, a
///   container used after its runtime stopped).
/// - Below that, where failing is an ordinary outcome on a hot path, functions return it instead:
///   the frame reader reports `sim::errc` codes (`frame_reader::next`), and transport streams
///   and listeners report Asio's `boost::system::error_code` (end of stream, reset, refused,
///   timed out). The channel turns both into exceptions (`protocol_error`,
///   `connection_closed`, `connection_error`).
/// - A peer's failure reply is a `remote_error`; a handler that answers a peer picks the type of
///   its failure with `fault`, and every other exception is named by `exception_type_name`.

#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace sim {

/// Base of every exception libsim throws at its user API.
class error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// A value cannot be encoded or decoded, or does not convert to the requested C++ type.
/// `what()` names the value's place when it is known: `json cannot encode bytes (at [2][0])`.
class serialization_error : public error {
  public:
    explicit serialization_error(std::string reason, std::string place = {});

    /// What went wrong, without the place.
    const std::string& reason() const noexcept { return reason_; }
    /// Where, as a path from the top of the value: `[2]["k"]`; empty at the top.
    const std::string& place() const noexcept { return place_; }
    /// Called while unwinding out of a container, so the place builds up from the inside out.
    void prepend_place(std::string_view outer);

    const char* what() const noexcept override { return what_.c_str(); }

  private:
    std::string reason_;
    std::string place_;
    std::string what_;
};

/// A peer broke the wire protocol: a malformed, empty or oversized frame, or a message that is not
/// `[type, id, content]`.
class protocol_error : public error {
  public:
    using error::error;
};

/// Cannot connect: refused, unreachable, an unknown host, a failed TLS handshake.
class connection_error : public error {
  public:
    using error::error;
};

/// The connection ended (closed by either side or lost) while a call needed it. `what()` names
/// the peer.
class connection_closed : public error {
  public:
    using error::error;
};

/// A deadline passed before the awaited event.
class timeout_error : public error {
  public:
    using error::error;
};

/// The peer answered with an EXCEPTION reply. aiomas sends a Python traceback whose last line is
/// `Type: message`; `type()` and `message()` are that line's parts, `traceback()` the whole text,
/// `origin()` the peer (as aiomas' RemoteException.origin).
class remote_error : public error {
  public:
    remote_error(std::string origin, std::string traceback);

    const std::string& origin() const noexcept { return origin_; }
    const std::string& traceback() const noexcept { return traceback_; }
    const std::string& type() const noexcept { return type_; }
    const std::string& message() const noexcept { return message_; }

  private:
    std::string origin_;
    std::string traceback_;
    std::string type_;
    std::string message_;
};

/// A name that does not resolve: an unknown RPC path, an agent that does not exist. Sent to
/// Python peers as LookupError.
class lookup_error : public error {
  public:
    using error::error;
};

/// A call whose arguments do not fit the function (count, names, types). Sent to Python peers
/// as TypeError.
class type_error : public error {
  public:
    using error::error;
};

/// Thrown by code that answers a peer (an RPC handler, a mosaik simulator) to fail with an
/// exception of a chosen Python type: `throw sim::fault("ZeroDivisionError", "division by
/// zero")` answers `ZeroDivisionError: division by zero`. `detail` is a traceback or other text
/// for protocols that carry one (mosaik's `[type, message, detail]`). The one way to choose the
/// type: every other exception is named by `exception_type_name`.
class fault : public error {
  public:
    fault(std::string type, const std::string& message, std::string detail = {})
        : error(message), type_(std::move(type)), detail_(std::move(detail)) {}
    const std::string& type() const noexcept { return type_; }
    const std::string& detail() const noexcept { return detail_; }

  private:
    std::string type_;
    std::string detail_;
};

/// The name a Python peer gives `e`'s type: a `fault`'s own type; ValueError for
/// std::invalid_argument, LookupError for `lookup_error`, TypeError, TimeoutError, ... for the
/// exceptions that have one; else the C++ type's name. The type part of the `Type: message`
/// line of an EXCEPTION reply.
[[nodiscard]] std::string exception_type_name(const std::exception& e);

namespace detail {
/// A C++ type's readable name, from `typeid(T).name()`.
std::string demangle(const char* mangled);
}  // namespace detail

/// The fiber's work was called off: its agent was removed, or its container is shutting down.
/// Ending a fiber with it is normal, and not logged as an error.
class cancelled : public error {
  public:
    using error::error;
};

/// Error codes used below the user API: the frame reader's.
enum class errc {
    frame_too_large = 1,  ///< a frame header announces more than the configured maximum
    empty_frame,          ///< a frame header announces a zero-length payload
};

/// The category of `sim::errc` codes (name "sim").
const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

}  // namespace sim

template <>
struct std::is_error_code_enum<sim::errc> : std::true_type {};

#pragma once
/// The channel: request/reply over one connection, wire-compatible with aiomas' Channel.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <sim/channel/message.hpp>
#include <sim/codec/codec.hpp>
#include <sim/codec/value.hpp>
#include <sim/core/deadline.hpp>
#include <sim/framing/frame.hpp>
#include <sim/transport/address.hpp>
#include <sim/transport/stream.hpp>

namespace sim {

namespace detail {
class channel_state;
}

/// Settings of one connection.
struct channel_options {
    /// "json" (aiomas' default), "msgpack", "msgpack-blosc" or "msgpack-lz4"; both ends must
    /// agree.
    std::string codec = "json";
    /// Custom types and limits; each connection gets its own codec with a copy of these.
    codec_options codec_settings;
    /// A send that names no deadline waits at most this long (aiomas waits forever; we do not).
    std::chrono::milliseconds default_timeout{std::chrono::seconds(60)};
    /// The largest frame accepted from the peer (and sent to it).
    std::size_t max_frame_size = default_max_frame_size;
    /// Flow control: senders wait while this many bytes are queued for the socket, so that a
    /// slow reader slows the writer instead of growing memory.
    std::size_t max_queued = std::size_t{4} << 20;
    /// TLS and in-process settings.
    transport_options transport;
    /// Start holding received messages (see `channel::hold_incoming`) before the first arrives.
    bool hold_incoming = false;
};

/// Per-connection counters, readable at run time.
struct channel_stats {
    std::uint64_t frames_in = 0;
    std::uint64_t frames_out = 0;
    std::uint64_t bytes_in = 0;   ///< headers included
    std::uint64_t bytes_out = 0;  ///< headers included
    std::uint64_t requests_in = 0;
    std::uint64_t requests_out = 0;
    std::uint64_t timeouts = 0;           ///< sends that gave up
    std::uint64_t late_replies = 0;       ///< replies that came after their send gave up (dropped)
    std::uint64_t unknown_replies = 0;    ///< replies to no request of ours (dropped)
    std::uint64_t errors = 0;             ///< protocol errors; the connection closed on the first
    std::uint64_t messages_sent = 0;      ///< requests and replies queued for the peer
    std::uint64_t messages_received = 0;  ///< requests and replies read (held ones included)
};

class channel;

/// An incoming request. Answer it once, with `reply` or `fail`; a request dropped unanswered is
/// answered with a failure, so the peer does not wait forever.
class request {
  public:
    request(request&&) noexcept;
    request& operator=(request&&) noexcept;
    request(const request&) = delete;
    request& operator=(const request&) = delete;
    ~request();

    const value& content() const noexcept { return content_; }
    value& content() noexcept { return content_; }
    /// The peer's id for it (aiomas: opaque; echoed in the reply).
    const value& id() const noexcept { return id_; }
    /// The peer, as aiomas names it.
    const std::string& peer() const noexcept;

    /// Sends a RESULT. If the value cannot be encoded, sends an EXCEPTION describing why instead
    /// (as aiomas does) and throws nothing. Throws `sim::connection_closed` if the connection is
    /// gone; a second answer throws `std::logic_error`.
    void reply(const value& result);
    /// Sends an EXCEPTION whose text is `"<type>: <message>\n"`, the last line of a Python
    /// traceback, which aiomas peers turn into a RemoteException.
    void fail(std::string_view type, std::string_view message);
    /// Sends an EXCEPTION for `e`, named as a Python peer would recognise it (ValueError for
    /// std::invalid_argument, LookupError, TimeoutError, ...; otherwise the C++ type).
    void fail(const std::exception& e);
    /// Sends an EXCEPTION with this exact text (a whole traceback).
    void fail_with_text(std::string text);
    /// Sends an EXCEPTION with any content, for protocols whose failures are not traceback text.
    void fail_with(const value& content);
    /// Leaves the request without an answer, on purpose, for protocols with calls that want none.
    void no_reply() noexcept { answered_ = true; }

    bool answered() const noexcept { return answered_; }

  private:
    friend class detail::channel_state;
    request(std::shared_ptr<detail::channel_state> state, value id, value content);
    void answer(message_type type, const value& content);
    void drop_unanswered() noexcept;

    std::shared_ptr<detail::channel_state> state_;
    value id_;
    value content_;
    bool answered_ = false;
};

/// One connection that sends requests and receives replies, and receives requests and sends
/// replies, in any order and with any number in flight (aiomas' Channel, plus deadlines).
/// Its functions run in fibers of the runtime that made it. Move-only; destroying it closes the
/// connection without waiting (`close()` waits for queued frames to leave).
class channel {
  public:
    channel(channel&&) noexcept;
    channel& operator=(channel&&) noexcept;
    channel(const channel&) = delete;
    channel& operator=(const channel&) = delete;
    ~channel();

    /// Sends a request and suspends the calling fiber until the reply. Returns a RESULT's content;
    /// throws `sim::remote_error` for an EXCEPTION reply, `sim::timeout_error` when the deadline
    /// passes (a later reply is dropped and logged; the connection stays up),
    /// `sim::connection_closed` when the connection ends first, `sim::serialization_error` when
    /// `content` cannot be encoded (nothing is sent).
    value send(const value& content, deadline until);
    /// As above, with the channel's default timeout.
    value send(const value& content);

    /// A reply as it came: for protocols whose EXCEPTION replies are not aiomas' traceback text
    /// (a list of type, message and detail, say), which decode them themselves.
    struct reply {
        message_type type = message_type::result;  ///< result or exception
        value content;
    };
    /// Sends a request and suspends the calling fiber until the reply, which it returns whatever
    /// its type; fails as `send` does otherwise.
    [[nodiscard]] reply exchange(const value& content, deadline until);

    /// Suspends the calling fiber until a request arrives. Throws `sim::connection_closed` once
    /// the connection has ended and every received request has been taken.
    request recv();
    /// As `recv`, but gives up (returning nullopt) at the deadline.
    [[nodiscard]] std::optional<request> recv(deadline until);

    /// Closes the connection: pending sends fail with `sim::connection_closed`, requests not yet
    /// received are dropped, and the call returns once queued frames have been written (at most
    /// `linger`). Idempotent.
    void close(std::chrono::milliseconds linger = std::chrono::seconds(1));
    /// While holding, received messages wait instead of reaching recv() and waiting senders;
    /// `release_held()` delivers them in the order they arrived. A coordinator uses this to
    /// deliver the messages between containers in a canonical order (deterministic stepping).
    void hold_incoming(bool on) noexcept;
    std::size_t held() const noexcept;
    /// The i-th held message (0: the oldest), to look at before releasing it.
    const message& held_message(std::size_t i) const;
    /// Delivers up to `max` held messages, oldest first; returns how many.
    std::size_t release_held(std::size_t max = static_cast<std::size_t>(-1));
    /// Called on the runtime's thread after each message is read (held or delivered), when a
    /// pending call gives up, and when the channel ends: lets a container notice replies while
    /// it waits for quiescence, or look at held messages as they come.
    void on_activity(std::function<void()> callback);
    /// Requests sent and not yet answered (nor given up).
    std::size_t pending_calls() const noexcept;

    /// Ends the connection at once, without waiting for queued frames: pending sends fail with
    /// `sim::connection_closed`. Idempotent; never blocks (fit for destructors).
    void abort() noexcept;
    /// Whether the connection has ended (closed here, by the peer, or lost).
    bool closed() const noexcept;
    /// Why it ended, empty while open.
    std::string close_reason() const;

    /// The peer, as aiomas names it ("127.0.0.1:5555", a socket path).
    const std::string& peer() const noexcept;
    channel_stats stats() const noexcept;
    sim::codec& codec() noexcept;
    const channel_options& options() const noexcept;

    /// Wraps a connected stream (what open_connection and start_server do).
    channel(std::unique_ptr<stream> s, channel_options options);

  private:
    std::shared_ptr<detail::channel_state> state_;
};

/// Retrying a connection that is refused, as aiomas does (aiomas-protocol.md §2.6).
struct connect_options {
    /// Zero: one attempt. Otherwise keep retrying a refused connection until this has passed.
    std::chrono::milliseconds timeout{0};
    std::chrono::milliseconds first_delay{500};
    double backoff = 1.5;
    std::chrono::milliseconds max_delay{std::chrono::seconds(30)};
};

/// Connects to `to` (tcp://, ipc://[...], local://) and returns the channel. Throws
/// `sim::connection_error` when it cannot connect (after retrying, if asked).
channel open_connection(const address& to, channel_options options = {},
                        connect_options retry = {});
channel open_connection(std::string_view url, channel_options options = {},
                        connect_options retry = {});

/// A listening socket whose every connection becomes a channel handed to a callback.
class server {
  public:
    server(server&&) noexcept;
    server& operator=(server&&) noexcept;
    server(const server&) = delete;
    server& operator=(const server&) = delete;
    /// Closes (stops accepting; open channels belong to whoever took them).
    ~server();

    /// Where it listens (the real port when 0 was asked for).
    const address& local_address() const noexcept;
    /// Stops accepting. Idempotent.
    void close() noexcept;
    /// Connections accepted so far.
    std::uint64_t accepted() const noexcept;

  private:
    struct state;
    friend server start_server(const address&, std::function<void(channel)>, channel_options);
    explicit server(std::shared_ptr<state> s) noexcept;
    std::shared_ptr<state> state_;
};

/// Listens on `at` and calls `on_connect` in a new fiber for every connection (aiomas'
/// start_server). The server keeps serving every other connection whatever one of them does.
/// Throws `sim::connection_error` when it cannot listen.
server start_server(const address& at, std::function<void(channel)> on_connect,
                    channel_options options = {});
server start_server(std::string_view url, std::function<void(channel)> on_connect,
                    channel_options options = {});

}  // namespace sim

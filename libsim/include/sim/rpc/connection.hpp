#pragma once
/// RPC over a channel: serving a router and calling the peer, both ways on one connection
/// (aiomas' RpcClient, open_connection and start_server; aiomas-protocol.md §4).

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <sim/channel/channel.hpp>
#include <sim/rpc/proxy.hpp>
#include <sim/rpc/router.hpp>

namespace sim::rpc {

/// A reference to a service of ours, to pass as an argument or return as a result: it travels as
/// `{"__type__": [T, "<router path>"]}` (T: the id after the user's serializers, as aiomas) and
/// arrives as a proxy that calls back over the same connection. Only services in the tree this
/// connection serves can travel.
struct service_ref {
    router* target = nullptr;
};

/// A reference to `service` as a value.
value ref(router& service);

/// One connection that serves `service` (if any) to the peer and calls the peer's.
/// Requests are served concurrently, each in its own fiber; replies go out as each finishes.
/// A request whose content is not `[path, args, kwargs]` is answered with a TypeError (aiomas
/// leaves the caller waiting). Copies share the connection. A connection we opened closes when
/// the last copy (or proxy) goes; one a server accepted lives until the peer goes, the server's
/// runtime stops, or `close()`.
class connection {
  public:
    connection() = default;

    /// The peer's root service.
    proxy remote() const;
    /// The underlying channel (counters, codec).
    sim::channel& channel() const;
    const std::string& peer() const;
    /// Closes the connection (as `channel::close`).
    void close();
    /// Ends the connection at once (as `channel::abort`): pending calls fail with
    /// `sim::connection_closed`. Never blocks, so the caller's fiber does not yield.
    void abort() noexcept;
    bool closed() const;
    /// Runs `callback(reason)` once when the connection ends (aiomas' on_connection_reset).
    void on_close(std::function<void(const std::string& reason)> callback);

    /// Wraps a channel: serves `service` (nullptr: none) on it. For what open_connection and
    /// start_server do, and for custom transports.
    connection(sim::channel ch, router* service);

    explicit operator bool() const noexcept { return handle_ != nullptr; }
    /// Whether this is a same-runtime shortcut (`connect_local`).
    bool is_local() const noexcept;

  private:
    friend connection open_connection(const address&, router*, channel_options, connect_options);
    friend connection connect_local(router&, std::string);
    connection(sim::channel ch, router* service, bool close_when_unused);

    std::shared_ptr<detail::connection_handle> handle_;
};

/// A connection to `service` in this same runtime, without codec and socket, with the semantics
/// of a remote one: each call runs in a fiber of its own, arguments and results are values
/// (copies; service references arrive as proxies), errors arrive as `sim::remote_error` with
/// the text a remote peer would send, and deadlines apply. `origin` is what errors name as the
/// peer. (An agent container's same-container shortcut.)
connection connect_local(router& service, std::string origin);

/// Connects to `to` and serves `service` (may be nullptr) to the peer over the connection.
connection open_connection(const address& to, router* service = nullptr,
                           channel_options options = {}, connect_options retry = {});
connection open_connection(std::string_view url, router* service = nullptr,
                           channel_options options = {}, connect_options retry = {});

/// Serves `service` to every connection accepted on `at`; `on_connect` (optional) gets each
/// connection, e.g. to call the client back. `service` must outlive the server.
server start_server(const address& at, router& service,
                    std::function<void(connection)> on_connect = {}, channel_options options = {});
server start_server(std::string_view url, router& service,
                    std::function<void(connection)> on_connect = {}, channel_options options = {});

}  // namespace sim::rpc

template <>
inline constexpr bool sim::enable_object<sim::rpc::service_ref> = true;

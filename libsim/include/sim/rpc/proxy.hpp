#pragma once
/// Proxies: the peer's functions called as if they were local (aiomas' Proxy).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <sim/codec/value.hpp>
#include <sim/core/deadline.hpp>
#include <sim/runtime/future.hpp>

namespace sim::rpc {

namespace detail {
class connection_handle;
}

/// A keyword argument: `proxy.call("add", 1, kw("scale", 3))`.
struct keyword {
    std::string name;
    value v;
};

template <class T>
keyword kw(std::string name, T&& v) {
    return {std::move(name), to_value(std::forward<T>(v))};
}

/// A path on the other side of a connection. `p["calc"]["math"]` is the proxy of `calc/math`;
/// `p.call<int>("add", 1, 2)` or `p["add"].call<int>(1, 2)`... calls a function there: positional
/// arguments convert with `to_value`, `kw(name, v)` passes keywords (in call order), and a
/// `sim::deadline` overrides the connection's default. A call blocks the calling fiber until the
/// reply: the result converts to `R` (a mismatch is a `sim::serialization_error`); the peer's
/// failure is a `sim::remote_error`, and the other errors are those of `channel::send`.
/// Copyable; equal when on the same connection with the same path. A proxy keeps its connection
/// open, as a `connection` handle does.
class proxy {
  public:
    proxy() = default;
    proxy(std::shared_ptr<detail::connection_handle> connection, std::string path)
        : connection_(std::move(connection)), path_(std::move(path)) {}

    /// The proxy of a child path.
    proxy operator[](std::string_view name) const;

    /// Calls `name` below this proxy's path.
    template <class R = value, class... Args>
    R call(std::string_view name, Args&&... args) const {
        return convert<R>(send(join(name), collect(std::forward<Args>(args)...)));
    }

    /// Calls `name` with arguments already made into values: for callers that build them at run
    /// time (a scenario's parameters).
    value call_with(std::string_view name, array args, map kwargs,
                    std::optional<deadline> until = std::nullopt) const {
        return send(join(name), call_parts{std::move(args), std::move(kwargs), until});
    }

    /// Calls `name` below this proxy's path without waiting for the reply: the call runs in a
    /// fiber of its own and the future brings its result or its error (those of `call`) to
    /// whoever calls `get()`, which suspends only that fiber. Arguments convert now; the
    /// deadline (the connection's default, or a `sim::deadline` among the arguments) applies
    /// as to `call`. Any number may be in flight at once, on one connection or many:
    ///
    ///     auto a = p.async_call<int>("add", 1, 2);
    ///     auto b = p.async_call<int>("add", 3, 4);
    ///     int sum = a.get() + b.get();  // or: auto [x, y] = sim::when_all(std::move(a), ...)
    template <class R = value, class... Args>
    future<R> async_call(std::string_view name, Args&&... args) const {
        return start<R>(join(name), collect(std::forward<Args>(args)...));
    }
    /// As `async_call`, for the function this proxy names.
    template <class R = value, class... Args>
    future<R> async_invoke(Args&&... args) const {
        return start<R>(path_, collect(std::forward<Args>(args)...));
    }

    /// Calls the function this proxy names.
    template <class R = value, class... Args>
    R invoke(Args&&... args) const {
        return convert<R>(send(path_, collect(std::forward<Args>(args)...)));
    }
    template <class... Args>
    value operator()(Args&&... args) const {
        return invoke<value>(std::forward<Args>(args)...);
    }

    const std::string& path() const noexcept { return path_; }
    /// Whether it is bound to a connection.
    explicit operator bool() const noexcept { return connection_ != nullptr; }
    /// As aiomas prints it: `Proxy('127.0.0.1:5555', 'calc/math')`.
    std::string to_string() const;

    friend bool operator==(const proxy& a, const proxy& b) noexcept {
        return a.connection_ == b.connection_ && a.path_ == b.path_;
    }

    const std::shared_ptr<detail::connection_handle>& connection() const noexcept {
        return connection_;
    }

  private:
    struct call_parts {
        array args;
        map kwargs;
        std::optional<deadline> until;
    };

    template <class... Args>
    static call_parts collect(Args&&... args) {
        call_parts parts;
        parts.args.reserve(sizeof...(Args));
        (add(parts, std::forward<Args>(args)), ...);
        return parts;
    }
    template <class T>
    static void add(call_parts& parts, T&& x) {
        using U = std::remove_cvref_t<T>;
        if constexpr (std::is_same_v<U, keyword>) {
            parts.kwargs.insert_or_assign(value(std::forward<T>(x).name), std::forward<T>(x).v);
        } else if constexpr (std::is_same_v<U, deadline>) {
            parts.until = x;
        } else {
            parts.args.push_back(to_value(std::forward<T>(x)));
        }
    }
    template <class R>
    static R convert(value&& v) {
        if constexpr (std::is_same_v<R, value>) {
            return std::move(v);
        } else if constexpr (std::is_void_v<R>) {
            return;
        } else {
            return take_value<R>(std::move(v));
        }
    }

    template <class R>
    future<R> start(std::string path, call_parts parts) const {
        // The fiber owns copies of what it needs: the caller may drop the future and go.
        return sim::async(
            [self = *this, path = std::move(path), parts = std::move(parts)]() mutable -> R {
                return convert<R>(self.send(path, std::move(parts)));
            });
    }

    std::string join(std::string_view name) const;
    value send(const std::string& path, call_parts parts) const;

    std::shared_ptr<detail::connection_handle> connection_;
    std::string path_;
};

}  // namespace sim::rpc

template <>
inline constexpr bool sim::enable_object<sim::rpc::proxy> = true;

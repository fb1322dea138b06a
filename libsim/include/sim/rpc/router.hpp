#pragma once
/// Routers: names to functions and to nested routers, resolved by `/`-separated paths
/// (aiomas' Router, Service and ServiceDict; aiomas-protocol.md §4.2).

#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sim/codec/value.hpp>
#include <sim/core/error.hpp>

namespace sim::rpc {

/// A parameter's name, for keyword arguments, and optionally its default:
/// `expose("add", &calc::add, arg("a"), arg("b"), arg("scale") = 1)`.
class arg {
  public:
    explicit arg(std::string name) : name_(std::move(name)) {}
    /// The value used when a caller leaves the parameter out.
    template <class T>
    arg operator=(T&& default_value) const {
        arg a(name_);
        a.default_ = to_value(std::forward<T>(default_value));
        return a;
    }
    const std::string& name() const noexcept { return name_; }
    const std::optional<value>& default_value() const noexcept { return default_; }

  private:
    std::string name_;
    std::optional<value> default_;
};

/// Thrown by a handler to answer with an exception of a given (Python) type:
/// `throw fault("ZeroDivisionError", "division by zero")` replies `ZeroDivisionError: division by
/// zero`. Any other exception is named by `sim::exception_type_name`: the Python type it stands
/// for, or its C++ type. (`sim::fault`, under the name RPC code knows it by.)
using fault = sim::fault;

/// What a handler receives: the request's positional and keyword arguments.
struct call_arguments {
    array& args;
    map& kwargs;
};

/// A handler taking the raw arguments; returns the result.
using raw_handler = std::function<value(call_arguments)>;

/// Maps names to functions and to child routers. A path `calc/math/add` names the function `add`
/// of the child `math` of the child `calc`. Routers form a tree: a router has at most one parent,
/// and its path is the names from the root. Functions run in the fiber serving their request and
/// may block. Not thread-safe: a router belongs to one runtime.
class router {
  public:
    router() = default;
    router(const router&) = delete;
    router& operator=(const router&) = delete;
    /// Detaches from the parent and the children.
    ~router();

    /// Exposes a callable (function, lambda, std::function) under `name`. Arguments convert from
    /// the request with `v.as<T>()`, the result with `to_value`; `arg(...)` specs name the
    /// parameters (in order) so that callers may pass them by keyword, and give defaults.
    template <class F, class... Args>
    router& expose(std::string name, F&& f, Args&&... params);

    /// Exposes a member function bound to `obj`.
    template <class T, class M, class... Args>
    requires std::is_member_function_pointer_v<M> router& expose(std::string name, M member, T* obj,
                                                                 Args&&... params);

    /// Exposes a handler that takes the raw `[args, kwargs]` itself.
    router& expose_raw(std::string name, raw_handler handler);

    /// Makes `child` reachable as `name/...` (aiomas' sub-services; an agent container's
    /// `agents/<id>`). Throws `std::invalid_argument` if `child` already has a parent or the
    /// name is taken.
    router& add(std::string name, router& child);
    /// Removes a function or a child router; true if there was one.
    bool remove(std::string_view name);
    /// Whether `name` is a function or child here.
    bool contains(std::string_view name) const;

    /// The names from the root, joined by '/'; "" for a root.
    std::string path() const;
    router* parent() const noexcept { return parent_; }
    const router& root() const noexcept;
    /// The child router `name`, or nullptr.
    router* child(std::string_view name) const;

    /// What a path names: a function, or a router (which cannot be called).
    struct target {
        const raw_handler* function = nullptr;
        router* service = nullptr;
    };
    /// Resolves a path; throws `sim::lookup_error` worded as aiomas words it:
    /// `Name "nope" not found in "calc/math"`.
    target resolve(std::string_view path);

  private:
    struct entry {
        std::optional<raw_handler> function;
        router* child = nullptr;
    };

    router& put_function(std::string name, raw_handler handler);

    // Hashed: a container's `agents` router has a child per agent, a million of them.
    struct name_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, entry, name_hash, std::equal_to<>> entries_;
    router* parent_ = nullptr;
    std::string name_;
};

// ---- binding arguments to C++ parameters -----------------------------------------------------

namespace detail {

template <class T>
struct callable_traits : callable_traits<decltype(&T::operator())> {};
template <class R, class... A>
struct callable_traits<R (*)(A...)> {
    using result = R;
    using params = std::tuple<A...>;
};
template <class R, class... A>
struct callable_traits<R(A...)> : callable_traits<R (*)(A...)> {};
template <class C, class R, class... A>
struct callable_traits<R (C::*)(A...)> : callable_traits<R (*)(A...)> {};
template <class C, class R, class... A>
struct callable_traits<R (C::*)(A...) const> : callable_traits<R (*)(A...)> {};
template <class C, class R, class... A>
struct callable_traits<R (C::*)(A...) noexcept> : callable_traits<R (*)(A...)> {};
template <class C, class R, class... A>
struct callable_traits<R (C::*)(A...) const noexcept> : callable_traits<R (*)(A...)> {};
template <class R, class... A>
struct callable_traits<R (*)(A...) noexcept> : callable_traits<R (*)(A...)> {};

/// Where a parameter's value comes from: the request (which may be moved from: it is thrown
/// away after the call) or a default (shared by every call).
struct bound_arg {
    value* own = nullptr;
    const value* shared = nullptr;
};

/// The parameters of an exposed function, and how to fill them from a call.
class signature {
  public:
    signature(std::string function, std::size_t count, std::vector<arg> names);

    /// Fills `out` (one slot per parameter, in order) from positional arguments, then keywords,
    /// then defaults. Throws `sim::type_error` as Python words it ("add() missing 1 required
    /// positional argument: 'b'").
    void bind(array& args, map& kwargs, std::span<bound_arg> out) const;
    /// "add() argument 'b'" or "add() argument 2", for conversion errors.
    std::string describe(std::size_t index) const;

  private:
    std::string function_;
    std::size_t count_;
    std::vector<arg> names_;
};

template <class Tuple, class Invoke, std::size_t... I>
value call_bound([[maybe_unused]] const signature& sig, [[maybe_unused]] std::span<bound_arg> bound,
                 Invoke& invoke, std::index_sequence<I...>) {
    using result =
        decltype(invoke(std::declval<std::remove_cvref_t<std::tuple_element_t<I, Tuple>>>()...));
    [[maybe_unused]] auto convert = [&](auto tag, std::size_t i) {
        using param = typename decltype(tag)::type;
        try {
            if (bound[i].own != nullptr) return take_value<param>(std::move(*bound[i].own));
            return from_value<param>(*bound[i].shared);
        } catch (const serialization_error& e) {
            throw type_error(sig.describe(i) + ": " + e.what());
        }
    };
    // Arguments convert in order; a braced list guarantees it.
    std::tuple<std::remove_cvref_t<std::tuple_element_t<I, Tuple>>...> converted{
        convert(std::type_identity<std::remove_cvref_t<std::tuple_element_t<I, Tuple>>>{}, I)...};
    if constexpr (std::is_void_v<result>) {
        std::apply(invoke, std::move(converted));
        return {};
    } else {
        return to_value(std::apply(invoke, std::move(converted)));
    }
}

template <class Params, class Invoke>
raw_handler make_handler(std::string name, Invoke invoke, std::vector<arg> names) {
    constexpr std::size_t n = std::tuple_size_v<Params>;
    auto sig = std::make_shared<signature>(std::move(name), n, std::move(names));
    return [sig, invoke = std::move(invoke)](call_arguments call) mutable -> value {
        std::array<bound_arg, n == 0 ? 1 : n> bound{};
        sig->bind(call.args, call.kwargs, std::span(bound.data(), n));
        return call_bound<Params>(*sig, std::span(bound.data(), n), invoke,
                                  std::make_index_sequence<n>{});
    };
}

}  // namespace detail

template <class F, class... Args>
router& router::expose(std::string name, F&& f, Args&&... params) {
    using fn = std::remove_cvref_t<F>;
    using traits = detail::callable_traits<std::conditional_t<std::is_function_v<fn>, fn*, fn>>;
    std::vector<arg> names{arg(std::forward<Args>(params))...};
    std::string label = name;
    return put_function(std::move(name),
                        detail::make_handler<typename traits::params>(
                            std::move(label), std::forward<F>(f), std::move(names)));
}

template <class T, class M, class... Args>
requires std::is_member_function_pointer_v<M> router& router::expose(std::string name, M member,
                                                                     T* obj, Args&&... params) {
    using traits = detail::callable_traits<M>;
    auto invoke = [obj, member](auto&&... a) -> decltype(auto) {
        return (obj->*member)(std::forward<decltype(a)>(a)...);
    };
    std::vector<arg> names{arg(std::forward<Args>(params))...};
    std::string label = name;
    return put_function(std::move(name),
                        detail::make_handler<typename traits::params>(
                            std::move(label), std::move(invoke), std::move(names)));
}

}  // namespace sim::rpc

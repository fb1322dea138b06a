#pragma once
/// Compile-time conversions between C++ types and `sim::value`.
///
/// `sim::to_value(x)` and `v.as<T>()` (or `sim::from_value<T>(v)`) use `sim::convert<T>`:
///
/// | C++ type                                        | value                                 |
/// |-------------------------------------------------|---------------------------------------|
/// | `bool`                                          | bool                                  |
/// | integers (not `char`)                           | int64 / uint64, range-checked on read |
/// | `float`, `double`                               | float64 (reads any number)            |
/// | `std::string`, `std::string_view`, `const char*`| string (`string_view` write-only)     |
/// | `sim::bytes` (`std::vector<std::byte>`)         | bytes                                 |
/// | `sim::big_integer`                              | any integer                           |
/// | `std::nullptr_t`, `std::monostate`              | nil                                   |
/// | `std::optional<T>`                              | nil or T                              |
/// | `vector`, `array`, `list`, `deque`, `set`, ...  | array                                 |
/// | `std::map`, `std::unordered_map`                | map (keys converted like values)      |
/// | `std::pair`, `std::tuple`                       | array of exactly that many elements   |
/// | enums                                           | their underlying integer              |
/// | `std::chrono::duration`                         | float64 seconds                       |
/// | user types with Cereal functions (`has_fields`) | object (`{"__type__": [id, fields]}`) |
/// | types with `sim::enable_object<T> = true`       | object                                |
///
/// Specialise `sim::convert<T>` with `static value to_value(const T&)` and
/// `static T from_value(const value&)` for a custom mapping to plain values. A failed read throws
/// `sim::serialization_error` naming the place inside the value (`[1]["x"]`).

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include <sim/codec/value.hpp>
#include <sim/codec/value_archive.hpp>
#include <sim/core/error.hpp>

namespace sim {

/// Opt a user type without Cereal functions into travelling as an object; its wire form then
/// comes from an explicit serializer pair registered with the codec (serializer_table).
template <class T>
inline constexpr bool enable_object = false;

/// The conversion between `T` and `sim::value`. The primary template handles object types.
template <class T, class Enable = void>
struct convert;

namespace detail {

[[noreturn]] void throw_type_mismatch(std::string_view expected, const value& got);
[[noreturn]] void throw_out_of_range(std::string_view type, const value& got);
[[noreturn]] void throw_size_mismatch(std::size_t expected, std::size_t got);
std::string index_place(std::size_t i);
std::string key_place(const value& key);

/// Runs `f` and, if it throws a serialization_error, records `place` on it.
template <class F>
decltype(auto) at_place(std::size_t index, F&& f) {
    try {
        return std::forward<F>(f)();
    } catch (serialization_error& e) {
        e.prepend_place(index_place(index));
        throw;
    }
}
template <class F>
decltype(auto) at_key(const value& key, F&& f) {
    try {
        return std::forward<F>(f)();
    } catch (serialization_error& e) {
        e.prepend_place(key_place(key));
        throw;
    }
}

template <class T>
inline constexpr bool is_char_type =
    std::is_same_v<T, char> || std::is_same_v<T, signed char> || std::is_same_v<T, char8_t> ||
    std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t> || std::is_same_v<T, wchar_t>;

template <class T>
bool object_equal(const void* a, const void* b) {
    if constexpr (std::equality_comparable<T>) {
        return *static_cast<const T*>(a) == *static_cast<const T*>(b);
    } else {
        return false;
    }
}

template <class T>
value object_fields(const void* p);

template <class T>
const object_type& object_type_of() {
    static const object_type type{typeid(T), demangle(typeid(T).name()), &object_equal<T>,
                                  &object_fields<T>};
    return type;
}

template <class C>
concept sequence_container = requires(C c) {
    typename C::value_type;
    c.begin();
    c.end();
    c.size();
}
&&!std::is_same_v<typename C::value_type, std::byte>;

template <class C>
void sequence_insert(C& c, typename C::value_type&& x) {
    if constexpr (requires { c.push_back(std::move(x)); }) {
        c.push_back(std::move(x));
    } else {
        c.insert(std::move(x));
    }
}

}  // namespace detail

/// Types that travel as objects.
template <class T>
concept object_convertible = std::is_class_v<T> && std::copy_constructible<T> &&
    (has_fields<T> || enable_object<T>);

template <class T>
value to_value(T&& x) {
    using U = std::remove_cvref_t<T>;
    if constexpr (std::is_same_v<U, value>) {
        return value(std::forward<T>(x));
    } else if constexpr (std::is_array_v<U> &&
                         detail::is_char_type<std::remove_cv_t<std::remove_extent_t<U>>>) {
        return value(std::string_view(x));
    } else {
        return convert<U>::to_value(std::forward<T>(x));
    }
}

template <class T>
T from_value(const value& v) {
    using U = std::remove_cvref_t<T>;
    if constexpr (std::is_same_v<U, value>) {
        return v;
    } else {
        return convert<U>::from_value(v);
    }
}

template <class T>
T value::as() const {
    return from_value<T>(*this);
}

/// Converts like `from_value`, but moves what it can out of `v` (strings, bytes, arrays, maps,
/// values), for a value that is about to be thrown away.
template <class T>
T take_value(value&& v) {
    using U = std::remove_cvref_t<T>;
    if constexpr (std::is_same_v<U, value>) {
        return std::move(v);
    } else if constexpr (std::is_same_v<U, std::string> || std::is_same_v<U, bytes> ||
                         std::is_same_v<U, array> || std::is_same_v<U, map>) {
        if (U* p = v.get_if<U>()) return std::move(*p);
        return from_value<U>(v);
    } else {
        return from_value<U>(v);
    }
}

// ---- objects (the primary template) ----------------------------------------------------------

template <class T, class Enable>
struct convert {
    static_assert(object_convertible<T>,
                  "no conversion between this type and sim::value: give it a Cereal serialize() "
                  "function, specialise sim::convert<T>, or set sim::enable_object<T> = true and "
                  "register a serializer pair");

    static value to_value(const T& x) { return value(object(x)); }
    static value to_value(T&& x) { return value(object(std::move(x))); }
    static T from_value(const value& v) {
        if (const auto* o = v.get_if<object>()) {
            if (const T* p = o->get_if<T>()) return *p;
        }
        if constexpr (has_fields<T> && std::is_default_constructible_v<T>) {
            // A peer without our serializer table may send the fields as a plain map.
            if (const auto* m = v.get_if<map>()) return from_fields<T>(*m);
        }
        detail::throw_type_mismatch(detail::object_type_of<T>().name, v);
    }
};

template <class T>
requires(!std::is_same_v<std::remove_cvref_t<T>, object>) object::object(T v)
    : object(std::make_shared<const T>(std::move(v)), detail::object_type_of<T>()) {}

// ---- scalars ----------------------------------------------------------------------------------

template <>
struct convert<bool> {
    static value to_value(bool b) noexcept { return value(b); }
    static bool from_value(const value& v) { return v.as_bool(); }
};

template <class T>
requires(std::is_integral_v<T> && !std::is_same_v<T, bool> &&
         !detail::is_char_type<T>) struct convert<T> {
    static value to_value(T i) noexcept { return value(i); }
    static T from_value(const value& v) {
        if (const auto* i = v.get_if<std::int64_t>()) {
            if constexpr (std::is_signed_v<T>) {
                if (*i >= std::numeric_limits<T>::min() && *i <= std::numeric_limits<T>::max())
                    return static_cast<T>(*i);
            } else {
                if (*i >= 0 && static_cast<std::uint64_t>(*i) <= std::numeric_limits<T>::max())
                    return static_cast<T>(*i);
            }
            detail::throw_out_of_range(detail::demangle(typeid(T).name()), v);
        }
        if (const auto* u = v.get_if<std::uint64_t>()) {
            if (*u <= static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
                return static_cast<T>(*u);
            detail::throw_out_of_range(detail::demangle(typeid(T).name()), v);
        }
        if (v.is_integer()) detail::throw_out_of_range(detail::demangle(typeid(T).name()), v);
        detail::throw_type_mismatch("int", v);
    }
};

template <class T>
requires std::is_floating_point_v<T>
struct convert<T> {
    static value to_value(T d) noexcept { return value(static_cast<double>(d)); }
    static T from_value(const value& v) { return static_cast<T>(v.as_double()); }
};

template <class T>
requires std::is_enum_v<T>
struct convert<T> {
    using underlying = std::underlying_type_t<T>;
    static value to_value(T e) noexcept { return value(static_cast<underlying>(e)); }
    static T from_value(const value& v) {
        return static_cast<T>(convert<underlying>::from_value(v));
    }
};

template <>
struct convert<std::nullptr_t> {
    static value to_value(std::nullptr_t) noexcept { return {}; }
    static std::nullptr_t from_value(const value& v) {
        if (!v.is_nil()) detail::throw_type_mismatch("nil", v);
        return nullptr;
    }
};

template <>
struct convert<std::monostate> {
    static value to_value(std::monostate) noexcept { return {}; }
    static std::monostate from_value(const value& v) {
        if (!v.is_nil()) detail::throw_type_mismatch("nil", v);
        return {};
    }
};

template <>
struct convert<std::string> {
    static value to_value(const std::string& s) { return value(s); }
    static value to_value(std::string&& s) noexcept { return value(std::move(s)); }
    static std::string from_value(const value& v) { return v.as_string(); }
};

template <>
struct convert<std::string_view> {
    static value to_value(std::string_view s) { return value(s); }
};

template <>
struct convert<const char*> {
    static value to_value(const char* s) { return value(s); }
};

template <>
struct convert<char*> {
    static value to_value(const char* s) { return value(s); }
};

template <>
struct convert<bytes> {
    static value to_value(const bytes& b) { return value(b); }
    static value to_value(bytes&& b) noexcept { return value(std::move(b)); }
    static bytes from_value(const value& v) { return v.as_bytes(); }
};

template <std::size_t N>
struct convert<std::span<const std::byte, N>> {
    static value to_value(std::span<const std::byte, N> s) {
        return value(bytes(s.begin(), s.end()));
    }
};

template <>
struct convert<big_integer> {
    static value to_value(const big_integer& b) { return value(b); }
    static big_integer from_value(const value& v) { return v.as_big_integer(); }
};

template <>
struct convert<array> {
    static value to_value(const array& a) { return value(a); }
    static value to_value(array&& a) noexcept { return value(std::move(a)); }
    static array from_value(const value& v) { return v.as_array(); }
};

template <>
struct convert<map> {
    static value to_value(const map& m) { return value(m); }
    static value to_value(map&& m) noexcept { return value(std::move(m)); }
    static map from_value(const value& v) { return v.as_map(); }
};

template <>
struct convert<object> {
    static value to_value(const object& o) { return value(o); }
    static object from_value(const value& v) { return v.as_object(); }
};

template <class Rep, class Period>
struct convert<std::chrono::duration<Rep, Period>> {
    using duration = std::chrono::duration<Rep, Period>;
    static value to_value(duration d) { return value(std::chrono::duration<double>(d).count()); }
    static duration from_value(const value& v) {
        return std::chrono::duration_cast<duration>(std::chrono::duration<double>(v.as_double()));
    }
};

// ---- optional, tuples ---------------------------------------------------------------------------

template <class T>
struct convert<std::optional<T>> {
    static value to_value(const std::optional<T>& o) { return o ? sim::to_value(*o) : value(); }
    static std::optional<T> from_value(const value& v) {
        if (v.is_nil()) return std::nullopt;
        return sim::from_value<T>(v);
    }
};

template <class... Ts>
struct convert<std::tuple<Ts...>> {
    static value to_value(const std::tuple<Ts...>& t) {
        array a;
        a.reserve(sizeof...(Ts));
        std::apply([&](const auto&... xs) { (a.push_back(sim::to_value(xs)), ...); }, t);
        return value(std::move(a));
    }
    static std::tuple<Ts...> from_value(const value& v) {
        const array& a = v.as_array();
        if (a.size() != sizeof...(Ts)) detail::throw_size_mismatch(sizeof...(Ts), a.size());
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return std::tuple<Ts...>{
                detail::at_place(I, [&] { return sim::from_value<Ts>(a[I]); })...};
        }
        (std::index_sequence_for<Ts...>{});
    }
};

template <class A, class B>
struct convert<std::pair<A, B>> {
    static value to_value(const std::pair<A, B>& p) {
        return value(array{sim::to_value(p.first), sim::to_value(p.second)});
    }
    static std::pair<A, B> from_value(const value& v) {
        const array& a = v.as_array();
        if (a.size() != 2) detail::throw_size_mismatch(2, a.size());
        return {detail::at_place(0, [&] { return sim::from_value<A>(a[0]); }),
                detail::at_place(1, [&] { return sim::from_value<B>(a[1]); })};
    }
};

// ---- sequences --------------------------------------------------------------------------------

template <class T, std::size_t N>
struct convert<std::array<T, N>> {
    static value to_value(const std::array<T, N>& xs) {
        array a;
        a.reserve(N);
        for (const auto& x : xs)
            a.push_back(sim::to_value(x));
        return value(std::move(a));
    }
    static std::array<T, N> from_value(const value& v) {
        const array& a = v.as_array();
        if (a.size() != N) detail::throw_size_mismatch(N, a.size());
        std::array<T, N> out{};
        for (std::size_t i = 0; i < N; ++i)
            out[i] = detail::at_place(i, [&] { return sim::from_value<T>(a[i]); });
        return out;
    }
};

template <class T, std::size_t N>
struct convert<std::span<T, N>> {
    static value to_value(std::span<T, N> xs) {
        array a;
        a.reserve(xs.size());
        for (const auto& x : xs)
            a.push_back(sim::to_value(x));
        return value(std::move(a));
    }
};

namespace detail {
template <class C>
struct sequence_convert {
    using element = typename C::value_type;
    static value to_value(const C& xs) {
        array a;
        a.reserve(xs.size());
        for (const auto& x : xs)
            a.push_back(sim::to_value(x));
        return value(std::move(a));
    }
    static value to_value(C&& xs) {
        array a;
        a.reserve(xs.size());
        for (auto& x : xs)
            a.push_back(sim::to_value(std::move(x)));
        return value(std::move(a));
    }
    static C from_value(const value& v) {
        const array& a = v.as_array();
        C out;
        if constexpr (requires { out.reserve(a.size()); }) out.reserve(a.size());
        for (std::size_t i = 0; i < a.size(); ++i)
            sequence_insert(out, at_place(i, [&] { return sim::from_value<element>(a[i]); }));
        return out;
    }
};

template <class M>
struct map_convert {
    using key_type = typename M::key_type;
    using mapped_type = typename M::mapped_type;
    static value to_value(const M& xs) {
        map m;
        m.reserve(xs.size());
        for (const auto& [k, x] : xs)
            m.insert_or_assign(sim::to_value(k), sim::to_value(x));
        return value(std::move(m));
    }
    static M from_value(const value& v) {
        const map& m = v.as_map();
        M out;
        for (const auto& entry : m) {
            const auto& k = entry.first;
            const auto& x = entry.second;
            auto key = at_key(k, [&] { return sim::from_value<key_type>(k); });
            out.insert_or_assign(std::move(key),
                                 at_key(k, [&] { return sim::from_value<mapped_type>(x); }));
        }
        return out;
    }
};
}  // namespace detail

template <class T, class A>
requires(!std::is_same_v<T, std::byte>) struct convert<std::vector<T, A>>
    : detail::sequence_convert<std::vector<T, A>> {
};
template <class T, class A>
struct convert<std::list<T, A>> : detail::sequence_convert<std::list<T, A>> {};
template <class T, class A>
struct convert<std::deque<T, A>> : detail::sequence_convert<std::deque<T, A>> {};
template <class T, class C, class A>
struct convert<std::set<T, C, A>> : detail::sequence_convert<std::set<T, C, A>> {};
template <class T, class H, class E, class A>
struct convert<std::unordered_set<T, H, E, A>>
    : detail::sequence_convert<std::unordered_set<T, H, E, A>> {};

/// Note: a `std::unordered_map` iterates in an unspecified order, and a map's order is part of
/// its wire form; prefer `std::map` or `sim::map` where bytes must be reproducible.
template <class K, class V, class C, class A>
struct convert<std::map<K, V, C, A>> : detail::map_convert<std::map<K, V, C, A>> {};
template <class K, class V, class H, class E, class A>
struct convert<std::unordered_map<K, V, H, E, A>>
    : detail::map_convert<std::unordered_map<K, V, H, E, A>> {};

// ---- Cereal field archives (declared in value_archive.hpp) -------------------------------------

template <class T>
void value_output_archive::save_object(const T& x) {
    auto& t = const_cast<T&>(x);  // Cereal's serialize() is non-const by convention
    if constexpr (detail::cereal_member_serialize_versioned<T> &&
                  !detail::cereal_member_serialize<T>) {
        const std::uint32_t version = cereal::detail::Version<T>::version;
        put("cereal_class_version", version);
        cereal::access::member_serialize(*this, t, version);
    } else if constexpr (detail::cereal_member_serialize<T>) {
        cereal::access::member_serialize(*this, t);
    } else if constexpr (detail::cereal_member_save_load<T>) {
        cereal::access::member_save(*this, x);
    } else if constexpr (detail::cereal_free_serialize<T>) {
        serialize(*this, t);
    } else {
        save(*this, x);
    }
}

template <class T>
void value_output_archive::put(const char* name, const T& x) {
    out_.insert_or_assign(value(name), sim::to_value(x));
}

template <class T>
void value_input_archive::load_object(T& x) {
    if constexpr (detail::cereal_member_serialize_versioned<T> &&
                  !detail::cereal_member_serialize<T>) {
        std::uint32_t version = 0;
        if (in_.contains("cereal_class_version")) get("cereal_class_version", version);
        cereal::access::member_serialize(*this, x, version);
    } else if constexpr (detail::cereal_member_serialize<T>) {
        cereal::access::member_serialize(*this, x);
    } else if constexpr (detail::cereal_member_save_load<T>) {
        cereal::access::member_load(*this, x);
    } else if constexpr (detail::cereal_free_serialize<T>) {
        serialize(*this, x);
    } else {
        load(*this, x);
    }
}

template <class T>
void value_input_archive::get(const char* name, T& x) {
    const value* v = in_.find(std::string_view(name));
    if (v == nullptr) {
        throw serialization_error(std::string("missing field \"") + name + "\"");
    }
    detail::at_key(value(name), [&] { x = sim::from_value<std::remove_cvref_t<T>>(*v); });
}

template <class T>
requires has_fields<T> map to_fields(const T& x) {
    map m;
    value_output_archive ar(m);
    ar.save_object(x);
    return m;
}

template <class T>
requires has_fields<T> T from_fields(const map& m) {
    T x{};
    value_input_archive ar(m);
    ar.load_object(x);
    return x;
}

template <class T>
value detail::object_fields(const void* p) {
    if constexpr (has_fields<T>) {
        return value(to_fields(*static_cast<const T*>(p)));
    } else {
        return {};
    }
}

}  // namespace sim

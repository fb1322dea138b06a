#pragma once
/// `sim::value`, the dynamic value every codec reads and writes (design.md §3).

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include <sim/codec/big_integer.hpp>
#include <sim/codec/object.hpp>

namespace sim {

class value;

/// An ordered sequence of values (JSON array, msgpack array, Python list or tuple).
using array = std::vector<value>;

/// Raw bytes (msgpack bin, Python bytes). JSON cannot carry them.
using bytes = std::vector<std::byte>;

/// What a value holds. Integers are normalised: a value that fits `int64` is always `int64`;
/// `uint64` holds only 2^63 .. 2^64-1; `big_integer` only integers outside both ranges.
enum class value_kind : std::uint8_t {
    nil,
    boolean,
    int64,
    uint64,
    big_integer,
    float64,
    string,
    bytes,
    array,
    map,
    object,
};

/// "nil", "bool", "int", "int", "bigint", "float", "string", "bytes", "array", "map", "object".
std::string_view to_string(value_kind k) noexcept;

/// An insertion-ordered map whose keys are values of any kind and unique (compared with
/// `operator==` of value). Lookups are O(1) on average: beyond a few entries the map keeps a hash
/// index. Assigning to an existing key keeps its position, as a Python dict does.
class map {
public:
    using entry = std::pair<value, value>;
    using const_iterator = std::vector<entry>::const_iterator;

    map() noexcept;
    map(std::initializer_list<entry> entries);
    map(const map& other);
    map(map&& other) noexcept;
    map& operator=(const map& other);
    map& operator=(map&& other) noexcept;
    ~map();

    std::size_t size() const noexcept;
    bool empty() const noexcept;
    void reserve(std::size_t n);
    void clear() noexcept;

    const_iterator begin() const noexcept;
    const_iterator end() const noexcept;
    const entry& front() const;
    /// The i-th entry in insertion order.
    const entry& entry_at(std::size_t i) const;

    /// Anything that is a string key: `std::string`, `std::string_view`, `const char*`.
    template <class S>
    static constexpr bool string_key =
        std::is_convertible_v<const S&, std::string_view> && !std::is_same_v<S, value>;

    /// The mapped value, or nullptr.
    const value* find(const value& key) const noexcept;
    value* find(const value& key) noexcept;
    template <class S>
        requires string_key<S>
    const value* find(const S& key) const noexcept {
        return find_string(key);
    }
    template <class S>
        requires string_key<S>
    value* find(const S& key) noexcept {
        return const_cast<value*>(std::as_const(*this).find_string(key));
    }
    bool contains(const value& key) const noexcept { return find(key) != nullptr; }
    template <class S>
        requires string_key<S>
    bool contains(const S& key) const noexcept {
        return find_string(key) != nullptr;
    }

    /// The mapped value; throws `sim::serialization_error` naming the key when it is missing.
    const value& at(const value& key) const;
    template <class S>
        requires string_key<S>
    const value& at(const S& key) const {
        return at_string(key);
    }
    template <class S>
        requires string_key<S>
    value& at(const S& key) {
        return const_cast<value&>(std::as_const(*this).at_string(key));
    }

    /// The mapped value, inserted as nil at the end when missing.
    value& operator[](const value& key);
    template <class S>
        requires string_key<S>
    value& operator[](const S& key) {
        return subscript_string(key);
    }

    /// Inserts at the end, or assigns in place when the key exists. Returns the mapped value.
    value& insert_or_assign(value key, value mapped);
    /// Inserts at the end unless the key exists; returns true if it inserted.
    bool insert(value key, value mapped);
    /// Removes the key (O(n): later entries move up). Returns true if it was present.
    bool erase(const value& key);
    template <class S>
        requires string_key<S>
    bool erase(const S& key) {
        return erase_string(key);
    }

    /// Same entries in the same order: the order is part of a value's wire form.
    friend bool operator==(const map& a, const map& b);

private:
    struct index;
    const value* find_string(std::string_view key) const noexcept;
    const value& at_string(std::string_view key) const;
    value& subscript_string(std::string_view key);
    bool erase_string(std::string_view key);
    std::ptrdiff_t lookup(const value& key) const noexcept;
    std::ptrdiff_t lookup(std::string_view key) const noexcept;
    void index_insert(std::size_t pos);
    void rebuild_index();

    std::vector<entry> entries_;
    std::unique_ptr<index> index_;  // built once the map outgrows a linear scan
};

/// The dynamic value: nil, bool, int64, uint64, big integer, double, UTF-8 string, bytes, array,
/// map (keys of any kind), or an object of a user type. Values are regular: copyable, movable
/// (O(1), noexcept) and comparable. Conversions to and from C++ types are `sim::to_value(x)` and
/// `v.as<T>()` (see convert.hpp); they throw `sim::serialization_error` on a mismatch.
class value {
public:
    using storage = std::variant<std::monostate, bool, std::int64_t, std::uint64_t, big_integer,
                                 double, std::string, bytes, array, map, object>;

    value() noexcept = default;
    value(std::nullptr_t) noexcept {}
    value(bool b) noexcept : v_(b) {}
    /// Any integer type except bool and the character types (write a string instead).
    template <class T>
        requires(std::integral<T> && !std::same_as<T, bool> && !std::same_as<T, char> &&
                 !std::same_as<T, char8_t> && !std::same_as<T, char16_t> &&
                 !std::same_as<T, char32_t> && !std::same_as<T, wchar_t>)
    value(T i) noexcept {
        if constexpr (std::is_signed_v<T>) {
            v_.emplace<std::int64_t>(static_cast<std::int64_t>(i));
        } else if (static_cast<std::uint64_t>(i) <= static_cast<std::uint64_t>(INT64_MAX)) {
            v_.emplace<std::int64_t>(static_cast<std::int64_t>(i));
        } else {
            v_.emplace<std::uint64_t>(static_cast<std::uint64_t>(i));
        }
    }
    value(double d) noexcept : v_(d) {}
    value(float f) noexcept : v_(static_cast<double>(f)) {}
    value(std::string s) noexcept : v_(std::move(s)) {}
    value(std::string_view s) : v_(std::string(s)) {}
    value(const char* s) : v_(std::string(s)) {}
    /// Normalised: a big integer that fits int64 or uint64 is stored as such.
    value(big_integer b);
    value(bytes b) noexcept : v_(std::move(b)) {}
    value(array a) noexcept : v_(std::move(a)) {}
    value(map m) noexcept : v_(std::move(m)) {}
    value(object o) noexcept : v_(std::move(o)) {}

    value_kind kind() const noexcept { return static_cast<value_kind>(v_.index()); }
    /// The kind's name, and for objects the type name.
    std::string type_name() const;

    bool is_nil() const noexcept { return kind() == value_kind::nil; }
    bool is_bool() const noexcept { return kind() == value_kind::boolean; }
    /// int64, uint64 or big_integer.
    bool is_integer() const noexcept {
        auto k = kind();
        return k == value_kind::int64 || k == value_kind::uint64 || k == value_kind::big_integer;
    }
    bool is_float() const noexcept { return kind() == value_kind::float64; }
    bool is_number() const noexcept { return is_integer() || is_float(); }
    bool is_string() const noexcept { return kind() == value_kind::string; }
    bool is_bytes() const noexcept { return kind() == value_kind::bytes; }
    bool is_array() const noexcept { return kind() == value_kind::array; }
    bool is_map() const noexcept { return kind() == value_kind::map; }
    bool is_object() const noexcept { return kind() == value_kind::object; }

    /// Pointer to the alternative if the value holds exactly `T` (one of `storage`'s types).
    template <class T>
    const T* get_if() const noexcept {
        return std::get_if<T>(&v_);
    }
    template <class T>
    T* get_if() noexcept {
        return std::get_if<T>(&v_);
    }

    /// Checked access; each throws `sim::serialization_error` ("expected string, got int 3").
    bool as_bool() const;
    std::int64_t as_int64() const;
    std::uint64_t as_uint64() const;
    /// Any number, converted to the nearest double.
    double as_double() const;
    const std::string& as_string() const;
    std::string& as_string();
    const bytes& as_bytes() const;
    bytes& as_bytes();
    const array& as_array() const;
    array& as_array();
    const map& as_map() const;
    map& as_map();
    const object& as_object() const;
    /// Any integer as a big integer.
    big_integer as_big_integer() const;

    /// Conversion to a C++ type (convert.hpp); throws `sim::serialization_error`.
    template <class T>
    T as() const;

    /// Array element or map value by string key; throws `sim::serialization_error`.
    template <std::integral I>
    const value& operator[](I i) const {
        return at_index(static_cast<std::size_t>(i));
    }
    const value& operator[](std::string_view key) const;
    const value& operator[](const char* key) const { return (*this)[std::string_view(key)]; }
    /// Elements of an array or map, bytes of a string or bytes value; 0 otherwise.
    std::size_t size() const noexcept;

    const storage& raw() const noexcept { return v_; }
    storage& raw() noexcept { return v_; }

    /// Structural equality: same kind and content. Doubles compare by value except that NaN
    /// equals NaN and -0.0 differs from 0.0 (a value equals what it decodes to after a round
    /// trip). Maps compare in order; objects by their type's operator==.
    friend bool operator==(const value& a, const value& b) noexcept;

private:
    const value& at_index(std::size_t i) const;

    storage v_;
};

/// A hash consistent with `operator==`.
std::size_t hash_value(const value& v) noexcept;

/// Renders a value for people: JSON-like, UTF-8 kept, bytes as b'..', floats as Python repr,
/// objects as `Type{fields}`.
std::string to_display_string(const value& v);

// Defined once value is complete: clang instantiates the (C++20 constexpr) vector members at once.
inline std::size_t map::size() const noexcept { return entries_.size(); }
inline bool map::empty() const noexcept { return entries_.empty(); }
inline void map::reserve(std::size_t n) { entries_.reserve(n); }
inline map::const_iterator map::begin() const noexcept { return entries_.begin(); }
inline map::const_iterator map::end() const noexcept { return entries_.end(); }
inline const map::entry& map::front() const { return entries_.front(); }
inline const map::entry& map::entry_at(std::size_t i) const { return entries_.at(i); }

inline bool operator==(const map& a, const map& b) {
    return a.entries_ == b.entries_;
}

}  // namespace sim

template <>
struct std::hash<sim::value> {
    std::size_t operator()(const sim::value& v) const noexcept { return sim::hash_value(v); }
};

/// `fmt::format("{}", v)` renders like `sim::to_display_string`.
template <>
struct fmt::formatter<sim::value> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const sim::value& v, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(sim::to_display_string(v), ctx);
    }
};

template <>
struct fmt::formatter<sim::value_kind> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(sim::value_kind k, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(sim::to_string(k), ctx);
    }
};

#include <sim/codec/convert.hpp>

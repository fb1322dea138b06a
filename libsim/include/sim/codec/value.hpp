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
    float64,
    big_integer,
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
    /// The i-th entry's value, to change or move from (keys stay as they are).
    value& mapped_at(std::size_t i);

    /// Anything that is a string key: `std::string`, `std::string_view`, `const char*`.
    template <class S>
    static constexpr bool string_key =
        std::is_convertible_v<const S&, std::string_view> && !std::is_same_v<S, value>;

    /// The mapped value, or nullptr.
    const value* find(const value& key) const noexcept;
    value* find(const value& key) noexcept;
    template <class S>
    requires string_key<S>
    const value* find(const S& key) const noexcept { return find_string(key); }
    template <class S>
    requires string_key<S> value* find(const S& key) noexcept {
        return const_cast<value*>(std::as_const(*this).find_string(key));
    }
    bool contains(const value& key) const noexcept { return find(key) != nullptr; }
    template <class S>
    requires string_key<S>
    bool contains(const S& key) const noexcept { return find_string(key) != nullptr; }

    /// The mapped value; throws `sim::serialization_error` naming the key when it is missing.
    const value& at(const value& key) const;
    template <class S>
    requires string_key<S>
    const value& at(const S& key) const { return at_string(key); }
    template <class S>
    requires string_key<S> value& at(const S& key) {
        return const_cast<value&>(std::as_const(*this).at_string(key));
    }

    /// The mapped value, inserted as nil at the end when missing.
    value& operator[](const value& key);
    template <class S>
    requires string_key<S> value& operator[](const S& key) { return subscript_string(key); }

    /// Inserts at the end, or assigns in place when the key exists. Returns the mapped value.
    value& insert_or_assign(value key, value mapped);
    /// Inserts at the end unless the key exists; returns true if it inserted.
    bool insert(value key, value mapped);
    /// Removes the key (O(n): later entries move up). Returns true if it was present.
    bool erase(const value& key);
    template <class S>
    requires string_key<S>
    bool erase(const S& key) { return erase_string(key); }

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
///
/// A tagged union rather than `std::variant`: decoders build and destroy millions of values, and
/// a switch the compiler inlines (nothing at all for the scalar kinds) beats the variant's
/// indirect visit on every construction, move and destruction.
class value {
  public:
    value() noexcept : i_(0), kind_(value_kind::nil) {}
    value(std::nullptr_t) noexcept : value() {}
    value(bool b) noexcept : b_(b), kind_(value_kind::boolean) {}
    /// Any integer type except bool and the character types (write a string instead).
    template <class T>
    requires(std::integral<T> && !std::same_as<T, bool> && !std::same_as<T, char> &&
             !std::same_as<T, char8_t> && !std::same_as<T, char16_t> &&
             !std::same_as<T, char32_t> && !std::same_as<T, wchar_t>) value(T i)
    noexcept {
        if constexpr (std::is_signed_v<T>) {
            i_ = static_cast<std::int64_t>(i);
            kind_ = value_kind::int64;
        } else if (static_cast<std::uint64_t>(i) <= static_cast<std::uint64_t>(INT64_MAX)) {
            i_ = static_cast<std::int64_t>(i);
            kind_ = value_kind::int64;
        } else {
            u_ = static_cast<std::uint64_t>(i);
            kind_ = value_kind::uint64;
        }
    }
    value(double d) noexcept : d_(d), kind_(value_kind::float64) {}
    value(float f) noexcept : d_(static_cast<double>(f)), kind_(value_kind::float64) {}
    value(std::string s) noexcept : s_(std::move(s)), kind_(value_kind::string) {}
    value(std::string_view s) : s_(s), kind_(value_kind::string) {}
    value(const char* s) : s_(s), kind_(value_kind::string) {}
    /// Normalised: a big integer that fits int64 or uint64 is stored as such.
    value(big_integer b);
    value(bytes b) noexcept : bytes_(std::move(b)), kind_(value_kind::bytes) {}
    value(array a) noexcept : array_(std::move(a)), kind_(value_kind::array) {}
    value(map m) noexcept : map_(std::move(m)), kind_(value_kind::map) {}
    value(object o) noexcept : object_(std::move(o)), kind_(value_kind::object) {}

    value(const value& other);
    value(value&& other) noexcept : kind_(other.kind_) {
        if (is_trivial(kind_)) {
            u_ = other.u_;
        } else {
            move_from(std::move(other));
        }
    }
    value& operator=(const value& other) {
        if (this != &other) *this = value(other);
        return *this;
    }
    value& operator=(value&& other) noexcept {
        if (this == &other) return *this;
        if (is_trivial(kind_) && is_trivial(other.kind_)) {
            u_ = other.u_;
            kind_ = other.kind_;
        } else {
            // Through a temporary: `other` may live inside this value (v = std::move(v[0])).
            value tmp(std::move(other));
            destroy();
            kind_ = tmp.kind_;
            if (is_trivial(kind_)) {
                u_ = tmp.u_;
            } else {
                move_from(std::move(tmp));
            }
        }
        return *this;
    }
    ~value() {
        if (!is_trivial(kind_)) destroy();
    }

    value_kind kind() const noexcept { return kind_; }
    /// The kind's name, and for objects the type name.
    std::string type_name() const;

    bool is_nil() const noexcept { return kind_ == value_kind::nil; }
    bool is_bool() const noexcept { return kind_ == value_kind::boolean; }
    /// int64, uint64 or big_integer.
    bool is_integer() const noexcept {
        return kind_ == value_kind::int64 || kind_ == value_kind::uint64 ||
               kind_ == value_kind::big_integer;
    }
    bool is_float() const noexcept { return kind_ == value_kind::float64; }
    bool is_number() const noexcept { return is_integer() || is_float(); }
    bool is_string() const noexcept { return kind_ == value_kind::string; }
    bool is_bytes() const noexcept { return kind_ == value_kind::bytes; }
    bool is_array() const noexcept { return kind_ == value_kind::array; }
    bool is_map() const noexcept { return kind_ == value_kind::map; }
    bool is_object() const noexcept { return kind_ == value_kind::object; }

    /// Pointer to what the value holds if it is exactly a `T` (bool, std::int64_t,
    /// std::uint64_t, double, big_integer, std::string, bytes, array, map, object), else nullptr.
    template <class T>
    const T* get_if() const noexcept {
        return const_cast<value*>(this)->get_if<T>();
    }
    template <class T>
    T* get_if() noexcept {
        if constexpr (std::is_same_v<T, bool>) {
            return kind_ == value_kind::boolean ? &b_ : nullptr;
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
            return kind_ == value_kind::int64 ? &i_ : nullptr;
        } else if constexpr (std::is_same_v<T, std::uint64_t>) {
            return kind_ == value_kind::uint64 ? &u_ : nullptr;
        } else if constexpr (std::is_same_v<T, double>) {
            return kind_ == value_kind::float64 ? &d_ : nullptr;
        } else if constexpr (std::is_same_v<T, big_integer>) {
            return kind_ == value_kind::big_integer ? &big_ : nullptr;
        } else if constexpr (std::is_same_v<T, std::string>) {
            return kind_ == value_kind::string ? &s_ : nullptr;
        } else if constexpr (std::is_same_v<T, bytes>) {
            return kind_ == value_kind::bytes ? &bytes_ : nullptr;
        } else if constexpr (std::is_same_v<T, array>) {
            return kind_ == value_kind::array ? &array_ : nullptr;
        } else if constexpr (std::is_same_v<T, map>) {
            return kind_ == value_kind::map ? &map_ : nullptr;
        } else if constexpr (std::is_same_v<T, object>) {
            return kind_ == value_kind::object ? &object_ : nullptr;
        } else {
            static_assert(sizeof(T) == 0, "value::get_if: not a type a value holds");
        }
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

    /// Structural equality: same kind and content. Doubles compare by value except that NaN
    /// equals NaN and -0.0 differs from 0.0 (a value equals what it decodes to after a round
    /// trip). Maps compare in order; objects by their type's operator==.
    friend bool operator==(const value& a, const value& b) noexcept;

  private:
    // nil, bool, int64, uint64 and float64 hold no resources.
    static constexpr bool is_trivial(value_kind k) noexcept { return k <= value_kind::float64; }

    const value& at_index(std::size_t i) const;
    void move_from(value&& other) noexcept;  // other's kind, non-trivial, is already in kind_
    void destroy() noexcept;

    union {
        bool b_;
        std::int64_t i_;
        std::uint64_t u_;
        double d_;
        big_integer big_;
        std::string s_;
        bytes bytes_;
        array array_;
        map map_;
        object object_;
    };
    value_kind kind_;
};

/// A hash consistent with `operator==`.
std::size_t hash_value(const value& v) noexcept;

/// Renders a value for people: JSON-like, UTF-8 kept, bytes as b'..', floats as Python repr,
/// objects as `Type{fields}`.
std::string to_display_string(const value& v);

// Defined once value is complete: clang instantiates the (C++20 constexpr) vector members at once.
inline std::size_t map::size() const noexcept {
    return entries_.size();
}
inline bool map::empty() const noexcept {
    return entries_.empty();
}
inline void map::reserve(std::size_t n) {
    entries_.reserve(n);
}
inline map::const_iterator map::begin() const noexcept {
    return entries_.begin();
}
inline map::const_iterator map::end() const noexcept {
    return entries_.end();
}
inline const map::entry& map::front() const {
    return entries_.front();
}
inline const map::entry& map::entry_at(std::size_t i) const {
    return entries_.at(i);
}
inline value& map::mapped_at(std::size_t i) {
    return entries_.at(i).second;
}

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

#pragma once
/// The per-codec table of custom types (aiomas §3.1): ids in registration order.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <typeindex>
#include <vector>

#include <sim/codec/value.hpp>

namespace sim {

/// How one C++ type travels inside the custom-type envelope `{"__type__": [id, data]}`.
/// A *fallback* entry (no `type`) serves every object that has no entry of its own, as aiomas'
/// serializer registered for `object` does (the RPC layer uses one for service references).
struct serializer {
    std::optional<std::type_index> type;         ///< exact type; nullopt for a fallback
    std::string name;                            ///< for messages
    std::function<value(const object&)> encode;  ///< object -> envelope data
    std::function<value(const value&)> decode;   ///< envelope data -> value (usually an object)

    /// `T`'s Cereal fields, as a map keyed by field name (aiomas' `serializable` wire form).
    template <class T>
    requires has_fields<T>
    static serializer of() {
        return of<T>([](const T& x) { return value(to_fields(x)); },
                     [](const value& data) { return from_fields<T>(data.as_map()); });
    }

    /// An explicit pair: `to(const T&) -> value` and `from(const value&) -> T`.
    template <class T, class To, class From>
    static serializer of(To to, From from) {
        return {
            std::type_index(typeid(T)), detail::object_type_of<T>().name,
            [to = std::move(to)](const object& o) { return value(to(*o.get_if<T>())); },
            [from = std::move(from)](const value& data) { return value(object(T(from(data)))); }};
    }
};

/// An ordered table of serializers. Type ids are positions: the first entry is id 0. Both peers of
/// a connection must register the same types in the same order. Lookup by type is O(1) average.
class serializer_table {
  public:
    /// Appends and returns the new entry's id. Throws `std::invalid_argument` when the type (or,
    /// for a fallback, another fallback) is already registered.
    std::uint32_t add(serializer s);

    template <class T>
    std::uint32_t add() {
        return add(serializer::of<T>());
    }
    template <class T, class To, class From>
    std::uint32_t add(To to, From from) {
        return add(serializer::of<T>(std::move(to), std::move(from)));
    }

    struct match {
        std::uint32_t id;
        const serializer* entry;
    };
    /// The entry for an object's exact type, else the fallback; nullopt when neither exists.
    std::optional<match> find(const object& o) const noexcept;
    /// The entry with this id, or nullptr.
    const serializer* at(std::uint64_t id) const noexcept;

    std::size_t size() const noexcept { return entries_.size(); }
    bool empty() const noexcept { return entries_.empty(); }

    /// Wraps `o` as `{"__type__": [id, data]}`; throws `sim::serialization_error` when no entry
    /// applies or the entry's encoder fails.
    value envelope(const object& o) const;
    /// If `m` is an envelope (has the key "__type__"), the value its entry decodes; else nullopt.
    /// Throws `sim::serialization_error` for a malformed envelope or an unknown id.
    std::optional<value> open(const map& m) const;

  private:
    std::vector<serializer> entries_;
    std::optional<std::uint32_t> fallback_;
};

}  // namespace sim

#pragma once
/// Cereal-compatible archives that map a user type to a `sim::map` keyed by field name.
///
/// A type with a Cereal serialization function (member or free `serialize`, or a `save`/`load`
/// pair, optionally versioned) becomes transferable: its named fields (`CEREAL_NVP(x)`,
/// `cereal::make_nvp("x", x)`) become map entries, unnamed ones `"value0"`, `"value1"`, ...,
/// and `cereal::base_class<B>(this)` merges the base's fields. Field values convert with
/// `sim::to_value` / `sim::from_value`, so nested user types, containers and optionals work
/// without Cereal's type headers.

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include <cereal/access.hpp>
#include <cereal/cereal.hpp>
#include <cereal/details/helpers.hpp>
#include <cereal/types/base_class.hpp>

#include <sim/core/error.hpp>

namespace sim {

class value;
class map;
template <class T>
value to_value(T&& x);
template <class T>
T from_value(const value& v);

class value_output_archive;
class value_input_archive;

namespace detail {

template <class T>
concept cereal_member_serialize = requires(value_output_archive& ar, T& t) {
    cereal::access::member_serialize(ar, t);
};
template <class T>
concept cereal_member_serialize_versioned = requires(value_output_archive& ar, T& t) {
    cereal::access::member_serialize(ar, t, std::uint32_t{});
};
template <class T>
concept cereal_member_save_load = requires(value_output_archive& oa, value_input_archive& ia,
                                           const T& ct, T& t) {
    cereal::access::member_save(oa, ct);
    cereal::access::member_load(ia, t);
};
template <class T>
concept cereal_free_serialize = requires(value_output_archive& ar, T& t) {
    serialize(ar, t);
};
template <class T>
concept cereal_free_save_load = requires(value_output_archive& oa, value_input_archive& ia,
                                         const T& ct, T& t) {
    save(oa, ct);
    load(ia, t);
};

}  // namespace detail

/// True for types with a Cereal serialization function this archive can call.
template <class T>
concept has_fields = std::is_class_v<T> &&
    (detail::cereal_member_serialize<T> || detail::cereal_member_serialize_versioned<T> ||
     detail::cereal_member_save_load<T> || detail::cereal_free_serialize<T> ||
     detail::cereal_free_save_load<T>);

/// Writes fields into a map. Use through `sim::to_fields`.
class value_output_archive {
  public:
    using is_saving = std::true_type;
    using is_loading = std::false_type;

    explicit value_output_archive(map& out) noexcept : out_(out) {}

    template <class... Ts>
    value_output_archive& operator()(Ts&&... ts) {
        (process(std::forward<Ts>(ts)), ...);
        return *this;
    }
    template <class T>
    value_output_archive& operator&(T&& t) {
        return (*this)(std::forward<T>(t));
    }
    template <class T>
    value_output_archive& operator<<(T&& t) {
        return (*this)(std::forward<T>(t));
    }

    /// Runs T's serialization function against this archive.
    template <class T>
    void save_object(const T& x);

  private:
    template <class T>
    void process(const cereal::NameValuePair<T>& nvp) {
        put(nvp.name, nvp.value);
    }
    template <class B>
    void process(const cereal::base_class<B>& b) {
        save_object(*b.base_ptr);
    }
    template <class B>
    void process(const cereal::virtual_base_class<B>& b) {
        save_object(*b.base_ptr);
    }
    template <class T>
    void process(const T& x) {
        put(next_unnamed().c_str(), x);
    }

    template <class T>
    void put(const char* name, const T& x);
    std::string next_unnamed() { return "value" + std::to_string(unnamed_++); }

    map& out_;
    std::size_t unnamed_ = 0;
};

/// Reads fields from a map. Use through `sim::from_fields`. A missing field is a
/// `sim::serialization_error` naming it; fields the type does not read are ignored.
class value_input_archive {
  public:
    using is_saving = std::false_type;
    using is_loading = std::true_type;

    explicit value_input_archive(const map& in) noexcept : in_(in) {}

    template <class... Ts>
    value_input_archive& operator()(Ts&&... ts) {
        (process(std::forward<Ts>(ts)), ...);
        return *this;
    }
    template <class T>
    value_input_archive& operator&(T&& t) {
        return (*this)(std::forward<T>(t));
    }
    template <class T>
    value_input_archive& operator>>(T&& t) {
        return (*this)(std::forward<T>(t));
    }

    /// Runs T's serialization function against this archive.
    template <class T>
    void load_object(T& x);

  private:
    template <class T>
    void process(cereal::NameValuePair<T>&& nvp) {
        get(nvp.name, nvp.value);
    }
    template <class T>
    void process(cereal::NameValuePair<T>& nvp) {
        get(nvp.name, nvp.value);
    }
    template <class B>
    void process(cereal::base_class<B>&& b) {
        load_object(*b.base_ptr);
    }
    template <class B>
    void process(cereal::virtual_base_class<B>&& b) {
        load_object(*b.base_ptr);
    }
    template <class T>
    void process(T& x) {
        get(next_unnamed().c_str(), x);
    }

    template <class T>
    void get(const char* name, T& x);
    std::string next_unnamed() { return "value" + std::to_string(unnamed_++); }

    const map& in_;
    std::size_t unnamed_ = 0;
};

/// The fields of `x` as a map (x's type must satisfy `has_fields`).
template <class T>
requires has_fields<T> map to_fields(const T& x);

/// A `T` built by default construction and loading its fields from `m`.
template <class T>
requires has_fields<T> T from_fields(const map& m);

}  // namespace sim

#pragma once
/// A value holding an instance of a user type, which codecs carry as aiomas' custom-type envelope.

#include <memory>
#include <string>
#include <type_traits>
#include <typeindex>

namespace sim {

class value;

/// Describes one C++ type that travels as an object. One static instance per type.
struct object_type {
    std::type_index type;
    std::string name;                             ///< readable (demangled) type name
    bool (*equal)(const void* a, const void* b);  ///< same-typed instances
    value (*fields)(const void* p);               ///< the instance as a field map, for display
};

/// An immutable instance of a user type inside a `sim::value`. Copies share the instance.
/// A codec encodes it through the serializer registered for its exact type (aiomas: no subclass
/// lookup), as `{"__type__": [id, data]}`. Create one with `sim::to_value(x)` or `object{x}`.
class object {
  public:
    /// Wraps a copy of `v`. Defined in convert.hpp (included by value.hpp).
    template <class T>
    requires(!std::is_same_v<std::remove_cvref_t<T>, object>) explicit object(T v);

    /// Low-level: wraps `p`, which must point to an instance of `type.type`.
    object(std::shared_ptr<const void> p, const object_type& type) noexcept
        : ptr_(std::move(p)), type_(&type) {}

    /// The instance if it is exactly a `T`, else nullptr.
    template <class T>
    const T* get_if() const noexcept {
        return type_->type == typeid(T) ? static_cast<const T*>(ptr_.get()) : nullptr;
    }

    std::type_index type() const noexcept { return type_->type; }
    const std::string& type_name() const noexcept { return type_->name; }
    const object_type& descriptor() const noexcept { return *type_; }
    const void* address() const noexcept { return ptr_.get(); }

    /// Same type and equal instances (operator== of the type, or identity when it has none).
    friend bool operator==(const object& a, const object& b) {
        return a.type_->type == b.type_->type &&
               (a.ptr_ == b.ptr_ || a.type_->equal(a.ptr_.get(), b.ptr_.get()));
    }

  private:
    std::shared_ptr<const void> ptr_;
    const object_type* type_;
};

}  // namespace sim

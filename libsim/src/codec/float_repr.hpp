#pragma once
// Python's repr() of a finite double: the shortest digits that round-trip, positional when the
// decimal exponent is in [-4, 16) (with ".0" for integral values), else d.ddde±XX.

#include <cstddef>

namespace sim::detail {

inline constexpr std::size_t float_repr_max = 32;

/// Writes repr(d) for finite d into buf (at least float_repr_max bytes); returns the length.
std::size_t float_repr(double d, char* buf) noexcept;

}  // namespace sim::detail

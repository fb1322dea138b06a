#pragma once
/// Numbers as aiomas peers write them. Python sends a whole-valued time as an int (`900`), not a
/// float (`900.0`), and a Python peer compares and prints what it receives; libsim sends and
/// shows times the same way.

#include <string>

#include <sim/codec/value.hpp>

namespace sim {

/// `x` as a value: an integer when `x` is whole and exactly an integer in a double
/// (|x| < 2^53), else the double itself (fractions, larger magnitudes, inf, nan).
[[nodiscard]] value number_value(double x);

/// `x` as text, as `to_display_string(number_value(x))` writes it: `900`, `0.5`, `1e+16`,
/// `inf`, `nan` (Python's repr for floats).
[[nodiscard]] std::string number_text(double x);

}  // namespace sim

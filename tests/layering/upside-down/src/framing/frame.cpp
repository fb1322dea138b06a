// What is allowed: the layer's own headers, a floor below, the standard library.
#include <sim/core/error.hpp>
#include <sim/framing/frame.hpp>

#include <cstdint>

#include "framing/detail.hpp"

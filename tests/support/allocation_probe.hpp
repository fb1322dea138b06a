#pragma once

#include <cstddef>

namespace sim_test {
/// Forgets the largest allocation seen so far.
void reset_largest_allocation() noexcept;
/// The largest single operator new request since the last reset (byte_buffer's realloc-based
/// storage is not counted; decoders build values with operator new).
std::size_t largest_allocation() noexcept;
}  // namespace sim_test

#pragma once
// What a run's summary needs from the process.

#include <cstddef>

namespace sim::detail {

/// The process's peak resident set so far, in bytes.
std::size_t peak_rss();

}  // namespace sim::detail

#pragma once

#include <sim/core/byte_buffer.hpp>

namespace sim::detail {

/// Runs `f`, which appends to `out`; if it throws, drops what it appended, so that a failed
/// encode leaves the buffer as it was.
template <class F>
void atomic_append(byte_buffer& out, F&& f) {
    std::size_t mark = out.size();
    try {
        f();
    } catch (...) {
        out.resize(mark);
        throw;
    }
}

}  // namespace sim::detail

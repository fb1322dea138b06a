#pragma once
// Working memory of the decoders, kept by each codec instance and reused from one decode to the
// next, so that decoding a message allocates only what the decoded value itself holds.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <sim/codec/value.hpp>

namespace sim::detail {

/// An open msgpack container: its elements are built in place. A container that is a map's key
/// or value is built inside the parent's frame (`key`, `pending`); `in_parent` records that, so
/// the pointers can be re-derived when the frame vector grows.
struct msgpack_frame {
    array* arr = nullptr;         // when filling an array
    map* m = nullptr;             // when filling a map
    value* slot = nullptr;        // the value that holds the container
    std::uint64_t remaining = 0;  // elements, or entries, still to come
    bool have_key = false;        // a map's key is complete; its value is being read
    std::uint8_t in_parent = 0;   // 0: elsewhere; 1: the parent's key; 2: the parent's pending
    value key;
    value pending;
};

/// An open JSON container: its elements wait on the value stack from `start`, and move into a
/// container of exactly the right size when it closes (JSON does not announce sizes).
struct json_frame {
    std::size_t start;
    bool is_map;
};

struct decode_scratch {
    std::vector<msgpack_frame> msgpack_frames;
    std::vector<value> json_stack;
    std::vector<json_frame> json_frames;
    bool busy = false;
};

/// The codec's scratch for one decode, or a fresh one if a decode is already running on it (a
/// deserializer that decodes with its own codec). Releases memory that one huge message grew.
class scratch_lease {
  public:
    explicit scratch_lease(decode_scratch& shared)
        : owned_(shared.busy ? std::make_unique<decode_scratch>() : nullptr),
          scratch_(owned_ ? *owned_ : shared) {
        scratch_.busy = true;
        scratch_.json_stack.clear();
        scratch_.json_frames.clear();
    }
    ~scratch_lease() {
        scratch_.busy = false;
        scratch_.json_stack.clear();
        scratch_.json_frames.clear();
        // Keep what a typical large message needs; give back what one huge message grew.
        constexpr std::size_t keep_bytes = std::size_t{1} << 20;
        if (scratch_.json_stack.capacity() * sizeof(value) > keep_bytes) {
            scratch_.json_stack.shrink_to_fit();
        }
    }
    scratch_lease(const scratch_lease&) = delete;
    scratch_lease& operator=(const scratch_lease&) = delete;

    decode_scratch& get() noexcept { return scratch_; }

  private:
    std::unique_ptr<decode_scratch> owned_;
    decode_scratch& scratch_;
};

}  // namespace sim::detail

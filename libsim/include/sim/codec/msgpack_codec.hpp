#pragma once
/// The MsgPack codec: byte for byte what aiomas' MsgPack codec writes (aiomas-protocol.md §3.3).

#include <sim/codec/codec.hpp>

namespace sim {

/// Encodes like msgpack-python's `packb(use_bin_type=True)`: the smallest form of each integer
/// (unsigned families for non-negative values), float64 always, str for strings (UTF-8 checked),
/// bin for bytes, maps with keys of any kind. Integers outside [-2^63, 2^64-1] are a
/// `serialization_error`. Decodes every msgpack form (float32 included) except ext types.
class msgpack_codec final : public codec {
  public:
    explicit msgpack_codec(codec_options options = {}) : codec(std::move(options)) {}

    std::string_view name() const noexcept override { return "msgpack"; }
    void encode(const value& v, byte_buffer& out) override;
    void encode_array(std::span<const value* const> items, byte_buffer& out) override;
    value decode(std::span<const std::byte> payload) override;
    using codec::decode;
    using codec::encode;
};

}  // namespace sim

#pragma once
/// The JSON codec: byte for byte what aiomas' default codec writes (aiomas-protocol.md §3.2).

#include <sim/codec/codec.hpp>

namespace sim {

/// Encodes exactly as Python's `json.dumps` with default settings: `", "` and `": "` separators,
/// ASCII output with lowercase `\uXXXX` escapes (surrogate pairs above U+FFFF), Python float repr,
/// `NaN`/`Infinity`/`-Infinity`, integers of any size. Map keys that are numbers, booleans or nil
/// become strings as Python converts them; other keys, and bytes, are a `serialization_error`.
/// Decodes any RFC 8259 JSON plus those three tokens; integers keep every digit.
class json_codec final : public codec {
  public:
    explicit json_codec(codec_options options = {}) : codec(std::move(options)) {}

    std::string_view name() const noexcept override { return "json"; }
    void encode(const value& v, byte_buffer& out) override;
    void encode_array(std::span<const value* const> items, byte_buffer& out) override;
    value decode(std::span<const std::byte> payload) override;
    using codec::decode;
    using codec::encode;
};

}  // namespace sim

#pragma once
/// The MsgPack+LZ4 codec: libsim's native compressed codec for libsim-to-libsim links.

#include <sim/codec/codec.hpp>

namespace sim {

/// msgpack (as `msgpack_codec`) behind a one-byte format tag (docs/codecs.md):
/// `00 <msgpack>` stored, or `01 <u32 little-endian msgpack size> <LZ4 block>` compressed.
/// Payloads shorter than `min_compress` bytes, and payloads LZ4 does not shrink, are stored.
/// Python aiomas has no such codec: use it only between libsim peers.
class lz4_codec final : public codec {
  public:
    static constexpr std::size_t default_min_compress = 128;

    explicit lz4_codec(codec_options options = {}, std::size_t min_compress = default_min_compress)
        : codec(std::move(options)), min_compress_(min_compress) {}

    std::string_view name() const noexcept override { return "msgpack-lz4"; }
    void encode(const value& v, byte_buffer& out) override;
    void encode_array(std::span<const value* const> items, byte_buffer& out) override;
    value decode(std::span<const std::byte> payload) override;
    using codec::decode;
    using codec::encode;

  private:
    void compress(byte_buffer& out);

    std::size_t min_compress_;
    byte_buffer plain_;  // the msgpack bytes before compression or after inflation
};

}  // namespace sim

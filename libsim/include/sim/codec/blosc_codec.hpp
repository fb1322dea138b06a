#pragma once
/// The MsgPackBlosc codec: aiomas' MsgPackBlosc (aiomas-protocol.md §3.4), through c-blosc.

#include <sim/codec/codec.hpp>

namespace sim {

/// Compression settings; the defaults are python-blosc's, which aiomas uses, so that frames
/// match aiomas byte for byte with the same c-blosc.
struct blosc_options {
    int clevel = 9;                      ///< 0 (store) .. 9
    int shuffle = 1;                     ///< 0 none, 1 byte shuffle, 2 bit shuffle
    std::size_t typesize = 8;            ///< python-blosc's default on 64-bit
    std::string compressor = "blosclz";  ///< blosclz, lz4, lz4hc, zlib or zstd (as built)
};

/// msgpack (as `msgpack_codec`) inside a Blosc 1 frame. Uses c-blosc's context API with one
/// internal thread: no global state, no thread pool, safe with one instance per thread.
/// Decoding validates the Blosc header (sizes against the payload and `max_size`) before
/// inflating anything.
class blosc_codec final : public codec {
  public:
    explicit blosc_codec(codec_options options = {}, blosc_options blosc = {});

    std::string_view name() const noexcept override { return "msgpack-blosc"; }
    void encode(const value& v, byte_buffer& out) override;
    void encode_array(std::span<const value* const> items, byte_buffer& out) override;
    value decode(std::span<const std::byte> payload) override;
    using codec::decode;
    using codec::encode;

  private:
    void compress(byte_buffer& out);

    blosc_options blosc_;
    byte_buffer plain_;  // the msgpack bytes before compression or after inflation
};

}  // namespace sim

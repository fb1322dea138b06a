#include <sim/codec/lz4_codec.hpp>

#include <lz4.h>

#include <cstring>

#include "codec/msgpack_format.hpp"

namespace sim {

namespace {

constexpr std::byte format_stored{0x00};
constexpr std::byte format_lz4{0x01};
constexpr std::size_t lz4_header = 5;  // format byte + u32 little-endian msgpack size

[[noreturn]] void fail(const std::string& what) {
    throw serialization_error("msgpack-lz4 decode: " + what);
}

}  // namespace

void lz4_codec::compress(byte_buffer& out) {
    const std::size_t n = plain_.size();
    if (n >= min_compress_ && n <= LZ4_MAX_INPUT_SIZE) {
        const auto bound = static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(n)));
        std::byte* dst = out.extend(lz4_header + bound);
        int c = LZ4_compress_default(reinterpret_cast<const char*>(plain_.data()),
                                     reinterpret_cast<char*>(dst + lz4_header), static_cast<int>(n),
                                     static_cast<int>(bound));
        if (c > 0 && static_cast<std::size_t>(c) + lz4_header < n + 1) {
            dst[0] = format_lz4;
            auto size = static_cast<std::uint32_t>(n);
            for (int i = 0; i < 4; ++i)
                dst[1 + i] = static_cast<std::byte>(size >> (8 * i));
            out.shrink_by(bound - static_cast<std::size_t>(c));
            return;
        }
        out.shrink_by(lz4_header + bound);  // incompressible: store it
    }
    out.push_back(format_stored);
    out.append(plain_.span());
}

void lz4_codec::encode(const value& v, byte_buffer& out) {
    plain_.clear();
    detail::msgpack_write(v, plain_, options_);
    compress(out);
}

void lz4_codec::encode_array(std::span<const value* const> items, byte_buffer& out) {
    plain_.clear();
    detail::msgpack_write_array(items, plain_, options_);
    compress(out);
}

value lz4_codec::decode(std::span<const std::byte> payload) {
    if (payload.empty()) fail("empty payload");
    if (payload[0] == format_stored)
        return detail::msgpack_read(payload.subspan(1), options_, name(), scratch());
    if (payload[0] != format_lz4) {
        fail("unknown format byte " + std::to_string(static_cast<int>(payload[0])) +
             " (0 stored, 1 LZ4)");
    }
    if (payload.size() < lz4_header) fail("truncated header");
    std::uint32_t n = 0;
    for (int i = 0; i < 4; ++i)
        n |= static_cast<std::uint32_t>(payload[1 + i]) << (8 * i);
    if (n > options_.max_size || n > LZ4_MAX_INPUT_SIZE) {
        fail("header claims " + std::to_string(n) + " uncompressed bytes, above the limit of " +
             std::to_string(options_.max_size));
    }
    plain_.resize(n);
    int d = LZ4_decompress_safe(reinterpret_cast<const char*>(payload.data() + lz4_header),
                                reinterpret_cast<char*>(plain_.data()),
                                static_cast<int>(payload.size() - lz4_header), static_cast<int>(n));
    if (d < 0 || static_cast<std::uint32_t>(d) != n) {
        fail("corrupt LZ4 block (expected " + std::to_string(n) + " bytes, got " +
             std::to_string(d) + ")");
    }
    return detail::msgpack_read(plain_.span(), options_, name(), scratch());
}

}  // namespace sim

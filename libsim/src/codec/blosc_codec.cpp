#include <sim/codec/blosc_codec.hpp>

#include <blosc.h>

#include <cstring>
#include <stdexcept>

#include "codec/large_stack.hpp"
#include "codec/msgpack_format.hpp"

namespace sim {

using detail::large_stack;

namespace {

std::uint32_t load_le32(const std::byte* p) noexcept {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

[[noreturn]] void fail(const std::string& what) {
    throw serialization_error("msgpack-blosc decode: " + what);
}

}  // namespace

blosc_codec::blosc_codec(codec_options options, blosc_options blosc)
    : codec(std::move(options)), blosc_(std::move(blosc)) {
    if (blosc_compname_to_compcode(blosc_.compressor.c_str()) < 0) {
        throw std::invalid_argument("Blosc compressor \"" + blosc_.compressor +
                                    "\" is not available (have: " + blosc_list_compressors() + ")");
    }
    if (blosc_.clevel < 0 || blosc_.clevel > 9) {
        throw std::invalid_argument("Blosc clevel must be 0..9");
    }
}

void blosc_codec::compress(byte_buffer& out) {
    std::size_t n = plain_.size();
    if (n > BLOSC_MAX_BUFFERSIZE) {
        throw serialization_error("msgpack-blosc cannot compress " + std::to_string(n) +
                                  " bytes (Blosc's limit is " +
                                  std::to_string(BLOSC_MAX_BUFFERSIZE) + ")");
    }
    std::size_t room = n + BLOSC_MAX_OVERHEAD;
    std::byte* dst = out.extend(room);
    // The context API: no global state and no thread pool (one internal thread). On a large
    // stack: blosclz keeps a 64 KiB hash table on it, more than a fiber has.
    int c = 0;
    large_stack::run([&] {
        c = blosc_compress_ctx(blosc_.clevel, blosc_.shuffle, blosc_.typesize, n, plain_.data(),
                               dst, room, blosc_.compressor.c_str(), 0, 1);
    });
    if (c <= 0) {
        out.shrink_by(room);
        throw serialization_error("msgpack-blosc: blosc_compress_ctx failed (" + std::to_string(c) +
                                  ")");
    }
    out.shrink_by(room - static_cast<std::size_t>(c));
}

void blosc_codec::encode(const value& v, byte_buffer& out) {
    plain_.clear();
    detail::msgpack_write(v, plain_, options_);
    compress(out);
}

void blosc_codec::encode_array(std::span<const value* const> items, byte_buffer& out) {
    plain_.clear();
    detail::msgpack_write_array(items, plain_, options_);
    compress(out);
}

value blosc_codec::decode(std::span<const std::byte> payload) {
    if (payload.size() < BLOSC_MIN_HEADER_LENGTH) {
        fail("payload of " + std::to_string(payload.size()) + " bytes is shorter than the " +
             std::to_string(BLOSC_MIN_HEADER_LENGTH) + "-byte Blosc header");
    }
    const std::byte* p = payload.data();
    std::uint32_t nbytes = load_le32(p + 4);
    std::uint32_t cbytes = load_le32(p + 12);
    if (cbytes != payload.size()) {
        fail("Blosc header gives " + std::to_string(cbytes) +
             " compressed bytes but the payload has " + std::to_string(payload.size()));
    }
    if (nbytes > options_.max_size) {
        fail("Blosc header claims " + std::to_string(nbytes) +
             " uncompressed bytes, above the limit of " + std::to_string(options_.max_size));
    }
    std::size_t checked = 0;
    if (blosc_cbuffer_validate(p, payload.size(), &checked) != 0 || checked != nbytes) {
        fail("invalid Blosc header (version " + std::to_string(static_cast<int>(p[0])) + ")");
    }
    plain_.resize(nbytes);
    int d = 0;
    large_stack::run([&] { d = blosc_decompress_ctx(p, plain_.data(), nbytes, 1); });
    if (d < 0 || static_cast<std::size_t>(d) != nbytes) {
        fail("corrupt Blosc data (blosc_decompress_ctx returned " + std::to_string(d) + ")");
    }
    return detail::msgpack_read(plain_.span(), options_, name(), scratch());
}

}  // namespace sim

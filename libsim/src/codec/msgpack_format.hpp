#pragma once
// The msgpack wire format, shared by the msgpack, msgpack-blosc and msgpack-lz4 codecs.

#include <span>
#include <string_view>

#include <sim/codec/codec.hpp>

namespace sim::detail {

struct decode_scratch;

/// Appends the msgpack encoding of `v`; on failure `out` is left as it was.
void msgpack_write(const value& v, byte_buffer& out, const codec_options& options);
/// Appends the msgpack encoding of an array of `*items[i]`; on failure `out` is left as it was.
void msgpack_write_array(std::span<const value* const> items, byte_buffer& out,
                         const codec_options& options);
/// Decodes one whole msgpack document with the codec's scratch. `codec_name` prefixes errors.
value msgpack_read(std::span<const std::byte> in, const codec_options& options,
                   std::string_view codec_name, decode_scratch& scratch);

}  // namespace sim::detail

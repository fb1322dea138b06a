#pragma once
/// The codec interface: values to payload bytes and back, chosen by name.

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sim/codec/serializer_table.hpp>
#include <sim/codec/value.hpp>
#include <sim/core/byte_buffer.hpp>

namespace sim {

namespace detail {
struct decode_scratch;
}

/// Settings shared by all codecs.
struct codec_options {
    /// Custom types, copied into each codec instance (aiomas: one table per connection).
    serializer_table serializers;
    /// Deepest nesting of arrays and maps accepted when decoding and encoding (128, as
    /// serde_json). Deeper input is a `serialization_error`, never a stack overflow.
    ///
    /// What a level is, for every reader and writer of every codec: each array and each map is
    /// one level, empty or not (`[]` is one level, `[[]]` and `[{}]` two, `[[1]]` two); scalars,
    /// strings and bytes are none; a map's keys sit one level below the map, like its values; an
    /// object counts as the envelope map it is sent as. So a value is accepted exactly when no
    /// chain of containers in it is longer than `max_depth`, and whatever a decoder accepts
    /// every encoder can write again, as far as depth goes.
    std::size_t max_depth = 128;
    /// Largest payload a compressing codec inflates to; larger claims are rejected up front.
    std::size_t max_size = std::size_t{64} << 20;
    /// When false, `{"__type__": ...}` maps decode as plain maps and objects cannot be encoded:
    /// the raw view that wire tools (sim-frame) and the golden vectors use.
    bool decode_envelopes = true;
};

/// Encodes values to payloads and decodes payloads to values. One instance per connection: an
/// instance is not thread-safe (it keeps scratch buffers), and its serializer table is its own.
/// Encoders write the one canonical form of each value; decoders accept every valid input.
/// Failures throw `sim::serialization_error`, whose message names the codec and the place.
class codec {
  public:
    explicit codec(codec_options options);
    virtual ~codec();
    codec(const codec&) = delete;
    codec& operator=(const codec&) = delete;

    /// "json", "msgpack", "msgpack-blosc" or "msgpack-lz4".
    virtual std::string_view name() const noexcept = 0;

    /// Appends the payload for `v` to `out`. On failure `out` is left as it was.
    virtual void encode(const value& v, byte_buffer& out) = 0;
    /// Appends the payload for an array whose elements are `*items[0]`, `*items[1]`, ... (lets
    /// the message layer encode `[type, id, content]` without copying the content).
    virtual void encode_array(std::span<const value* const> items, byte_buffer& out) = 0;
    /// Decodes one whole payload; trailing bytes are an error.
    virtual value decode(std::span<const std::byte> payload) = 0;

    byte_buffer encode(const value& v) {
        byte_buffer out;
        encode(v, out);
        return out;
    }
    value decode(std::string_view payload) {
        return decode(std::as_bytes(std::span(payload.data(), payload.size())));
    }

    const codec_options& options() const noexcept { return options_; }
    serializer_table& serializers() noexcept { return options_.serializers; }
    const serializer_table& serializers() const noexcept { return options_.serializers; }

  protected:
    /// Decoder working memory, reused across calls (see decode_scratch.hpp).
    detail::decode_scratch& scratch() noexcept { return *scratch_; }

    codec_options options_;

  private:
    std::unique_ptr<detail::decode_scratch> scratch_;
};

/// A new codec by name: "json", "msgpack", "msgpack-blosc" or "msgpack-lz4". Throws
/// `std::invalid_argument` listing the known names for any other.
std::unique_ptr<codec> make_codec(std::string_view name, codec_options options = {});

/// The names `make_codec` knows, in a stable order.
std::span<const std::string_view> codec_names() noexcept;

}  // namespace sim

#pragma once
/// The `[type, id, content]` message every frame carries (aiomas-protocol.md §2.2).

#include <cstdint>
#include <string_view>

#include <sim/codec/codec.hpp>
#include <sim/codec/value.hpp>
#include <sim/core/byte_buffer.hpp>

namespace sim {

enum class message_type : std::uint8_t {
    request = 0,    ///< content is the request; id from the sender's counter
    result = 1,     ///< success reply; id of the request it answers
    exception = 2,  ///< failure reply; content is the error text (a Python traceback for aiomas)
};

std::string_view to_string(message_type t) noexcept;

struct message {
    message_type type = message_type::request;
    value id;  ///< aiomas sends non-negative integers; replies echo whatever the request had
    value content;

    friend bool operator==(const message&, const message&) = default;
};

/// Validates a decoded payload and takes it apart: a three-element array whose first element
/// is the integer 0, 1 or 2. Throws `sim::protocol_error` saying what is wrong.
message to_message(value&& payload);

/// A message converts to and from its three-element array value.
template <>
struct convert<message> {
    static value to_value(const message& m);
    static message from_value(const value& v) { return to_message(value(v)); }
};

/// Appends one frame (header and payload) carrying `[type, id, content]`, encoded without copying
/// the content. Throws `sim::serialization_error` when the content cannot be encoded, and
/// `sim::protocol_error` when the payload exceeds `max_payload` bytes; `out` is then unchanged.
void encode_frame(codec& c, message_type type, const value& id, const value& content,
                  byte_buffer& out, std::size_t max_payload = 0xffffffffu);
inline void encode_frame(codec& c, const message& m, byte_buffer& out,
                         std::size_t max_payload = 0xffffffffu) {
    encode_frame(c, m.type, m.id, m.content, out, max_payload);
}

/// Decodes one payload (without its header) into a message. Throws `sim::serialization_error`
/// for undecodable bytes and `sim::protocol_error` for a payload that is not a message.
message decode_message(codec& c, std::span<const std::byte> payload);

}  // namespace sim

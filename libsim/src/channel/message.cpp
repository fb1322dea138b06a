#include <sim/channel/message.hpp>
#include <sim/framing/frame.hpp>

#include <array>

namespace sim {

std::string_view to_string(message_type t) noexcept {
    switch (t) {
        case message_type::request:
            return "request";
        case message_type::result:
            return "result";
        case message_type::exception:
            return "exception";
    }
    return "?";
}

message to_message(value&& payload) {
    array* a = payload.get_if<array>();
    if (a == nullptr) {
        throw protocol_error("invalid message: expected [type, id, content], got " +
                             payload.type_name());
    }
    if (a->size() != 3) {
        throw protocol_error("invalid message: expected [type, id, content], got an array of " +
                             std::to_string(a->size()) + " elements");
    }
    const auto* t = (*a)[0].get_if<std::int64_t>();
    if (t == nullptr || *t < 0 || *t > 2) {
        throw protocol_error("invalid message type " + to_display_string((*a)[0]) +
                             " (expected 0 request, 1 result or 2 exception)");
    }
    return {static_cast<message_type>(*t), std::move((*a)[1]), std::move((*a)[2])};
}

value convert<message>::to_value(const message& m) {
    return value(array{value(static_cast<int>(m.type)), m.id, m.content});
}

void encode_frame(codec& c, message_type type, const value& id, const value& content,
                  byte_buffer& out, std::size_t max_payload) {
    const value type_value(static_cast<int>(type));
    const std::array<const value*, 3> items{&type_value, &id, &content};
    const std::size_t start = out.size();
    out.extend(frame_header_size);
    try {
        c.encode_array(items, out);
    } catch (...) {
        out.resize(start);
        throw;
    }
    const std::size_t n = out.size() - start - frame_header_size;
    if (n > max_payload || n > max_wire_payload) {
        out.resize(start);
        throw protocol_error(
            "message of " + std::to_string(n) + " bytes exceeds the maximum frame size of " +
            std::to_string(max_payload < max_wire_payload ? max_payload : max_wire_payload) +
            " bytes");
    }
    write_frame_header(out.data() + start, static_cast<std::uint32_t>(n));
}

message decode_message(codec& c, std::span<const std::byte> payload) {
    return to_message(c.decode(payload));
}

}  // namespace sim

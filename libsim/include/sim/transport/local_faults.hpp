#pragma once
/// Fault injection for the in-process transport: what a test does to the frames of a connection.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

namespace sim {

/// Which way data goes on an in-process connection.
enum class direction { to_server, to_client };

/// What happens to one frame (4-byte header and payload) on its way.
struct fault_action {
    enum class kind { deliver, drop } what = kind::deliver;
    /// Deliver this much later. Frames behind it wait too: a stream keeps its order.
    std::chrono::microseconds delay{0};

    static fault_action deliver() { return {}; }
    static fault_action drop() { return {kind::drop, {}}; }
    static fault_action later(std::chrono::microseconds d) { return {kind::deliver, d}; }
};

/// Faults for one in-process connection, given in `transport_options::faults` when connecting.
struct local_faults {
    /// After this many bytes have gone towards the server (or the client), the connection breaks:
    /// the reader sees those bytes and then the end of the stream; further writes fail.
    std::optional<std::uint64_t> close_to_server_at;
    std::optional<std::uint64_t> close_to_client_at;
    /// Decides each frame's fate; frames are counted per direction from 0.
    std::function<fault_action(direction, std::uint64_t index, std::span<const std::byte> frame)>
        on_frame;
};

}  // namespace sim

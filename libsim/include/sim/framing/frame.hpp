#pragma once
/// Framing: a 4-byte big-endian payload length, then the payload (aiomas-protocol.md §2.1). A
/// layer of its own, below the transports (whose fault injector cuts frames) and the channel.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>

#include <sim/core/byte_buffer.hpp>
#include <sim/core/error.hpp>

namespace sim {

inline constexpr std::size_t frame_header_size = 4;
/// The default largest payload a reader accepts. aiomas has no limit; we need one so that a
/// peer cannot make us buffer gigabytes.
inline constexpr std::size_t default_max_frame_size = std::size_t{64} << 20;
/// The wire format's own limit (the header is 32 bits).
inline constexpr std::size_t max_wire_payload = 0xffffffffu;

/// Writes the header for a payload of `n` bytes (n <= max_wire_payload).
inline void write_frame_header(std::byte* p, std::uint32_t n) noexcept {
    p[0] = static_cast<std::byte>(n >> 24);
    p[1] = static_cast<std::byte>(n >> 16);
    p[2] = static_cast<std::byte>(n >> 8);
    p[3] = static_cast<std::byte>(n);
}

inline std::uint32_t read_frame_header(const std::byte* p) noexcept {
    return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
           static_cast<std::uint32_t>(p[2]) << 8 | static_cast<std::uint32_t>(p[3]);
}

/// Incremental frame decoder: bytes go in in chunks of any size (one byte at a time works);
/// complete payloads come out in order. An oversized frame is rejected from its header, before
/// any of its payload is buffered; a zero-length payload is an error (aiomas never sends one).
/// After an error the reader stays failed. Not thread-safe.
class frame_reader {
  public:
    explicit frame_reader(std::size_t max_payload = default_max_frame_size) noexcept
        : max_payload_(max_payload) {}

    /// Copies `data` in (dropping consumed frames first, so memory stays bounded by the largest
    /// frame rather than growing with everything ever fed).
    void feed(std::span<const std::byte> data) {
        compact();
        buffer_.append(data);
    }

    /// Room for at least `n` bytes to be read into directly (e.g. by a socket read); follow with
    /// `commit(bytes_read)`. Avoids a copy between the socket and the reader.
    std::span<std::byte> prepare(std::size_t n);
    void commit(std::size_t n) noexcept;

    /// The next complete payload, valid until the next call of any non-const member; nullopt
    /// when more input is needed or after an error, which `ec` then holds
    /// (`errc::frame_too_large`, `errc::empty_frame`).
    [[nodiscard]] std::optional<std::span<const std::byte>> next(std::error_code& ec);

    /// The stream offset at which the next (or failing) frame starts: for error messages.
    std::uint64_t offset() const noexcept { return consumed_ + start_; }
    /// Bytes buffered that do not yet form a complete frame.
    std::size_t pending() const noexcept { return buffer_.size() - start_; }
    /// The length announced by the header that failed, or of the frame being read.
    std::uint64_t announced() const noexcept { return announced_; }
    /// The error the reader failed with, if any.
    std::error_code error() const noexcept { return error_; }
    std::size_t max_payload() const noexcept { return max_payload_; }
    /// Bytes of buffer the reader holds (for tests and memory accounting).
    std::size_t memory() const noexcept { return buffer_.capacity(); }

  private:
    void compact();

    byte_buffer buffer_;
    std::size_t start_ = 0;       // first unconsumed byte in buffer_
    std::uint64_t consumed_ = 0;  // bytes dropped from the front of buffer_ so far
    std::uint64_t announced_ = 0;
    std::size_t max_payload_;
    std::error_code error_;
};

}  // namespace sim

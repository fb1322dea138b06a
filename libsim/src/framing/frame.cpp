#include <sim/framing/frame.hpp>

namespace sim {

void frame_reader::compact() {
    if (start_ == 0) return;
    if (start_ == buffer_.size()) {
        consumed_ += start_;
        buffer_.clear();
        start_ = 0;
    } else if (start_ >= buffer_.size() / 2 || buffer_.capacity() - buffer_.size() < 4096) {
        // Move the partial frame to the front once it is the smaller part: amortised O(1).
        consumed_ += start_;
        buffer_.consume(start_);
        start_ = 0;
    }
}

std::span<std::byte> frame_reader::prepare(std::size_t n) {
    compact();
    return buffer_.prepare(n);
}

void frame_reader::commit(std::size_t n) noexcept {
    buffer_.commit(n);
}

std::optional<std::span<const std::byte>> frame_reader::next(std::error_code& ec) {
    ec = error_;
    if (error_) return std::nullopt;
    std::size_t avail = buffer_.size() - start_;
    if (avail < frame_header_size) return std::nullopt;
    const std::byte* p = buffer_.data() + start_;
    std::uint32_t n = read_frame_header(p);
    announced_ = n;
    if (n == 0) {
        ec = error_ = make_error_code(errc::empty_frame);
        return std::nullopt;
    }
    if (n > max_payload_) {
        ec = error_ = make_error_code(errc::frame_too_large);
        return std::nullopt;
    }
    if (avail - frame_header_size < n) return std::nullopt;
    start_ += frame_header_size + n;
    return std::span<const std::byte>(p + frame_header_size, n);
}

}  // namespace sim

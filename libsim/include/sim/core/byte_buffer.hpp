#pragma once
/// A growable byte buffer with uninitialised growth, the unit codecs write into and transports
/// send from.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string_view>

namespace sim {

/// Contiguous bytes with amortised O(1) append. Unlike `std::vector<std::byte>`, growing does not
/// zero-fill: encoders reserve space, write into it and commit what they wrote. A moved-from
/// buffer is empty. Not thread-safe.
class byte_buffer {
  public:
    byte_buffer() noexcept = default;
    explicit byte_buffer(std::size_t capacity) { reserve(capacity); }
    byte_buffer(const byte_buffer& other) { append(other.span()); }
    byte_buffer(byte_buffer&& other) noexcept
        : data_(std::move(other.data_)), size_(other.size_), capacity_(other.capacity_) {
        other.size_ = other.capacity_ = 0;
    }
    byte_buffer& operator=(const byte_buffer& other) {
        if (this != &other) {
            clear();
            append(other.span());
        }
        return *this;
    }
    byte_buffer& operator=(byte_buffer&& other) noexcept {
        data_ = std::move(other.data_);
        size_ = other.size_;
        capacity_ = other.capacity_;
        other.size_ = other.capacity_ = 0;
        return *this;
    }
    ~byte_buffer() = default;

    std::byte* data() noexcept { return data_.get(); }
    const std::byte* data() const noexcept { return data_.get(); }
    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return capacity_; }
    bool empty() const noexcept { return size_ == 0; }
    std::span<std::byte> span() noexcept { return {data_.get(), size_}; }
    std::span<const std::byte> span() const noexcept { return {data_.get(), size_}; }
    std::string_view view() const noexcept {
        return {reinterpret_cast<const char*>(data_.get()), size_};
    }

    /// Drops the contents and keeps the capacity.
    void clear() noexcept { size_ = 0; }

    void reserve(std::size_t capacity) {
        if (capacity > capacity_) reallocate(capacity);
    }

    /// Appends `n` uninitialised bytes and returns a pointer to the first; the caller fills them.
    std::byte* extend(std::size_t n) {
        if (capacity_ - size_ < n) grow(n);
        std::byte* p = data_.get() + size_;
        size_ += n;
        return p;
    }

    /// Room for at least `n` more bytes past the end, without changing the size: fill it (for
    /// example with a socket read) and `commit` what was written.
    std::span<std::byte> prepare(std::size_t n) {
        if (capacity_ - size_ < n) grow(n);
        return {data_.get() + size_, capacity_ - size_};
    }
    /// Adds `n` bytes written into the space `prepare` returned.
    void commit(std::size_t n) noexcept { size_ += n; }

    /// Removes the last `n` bytes (n <= size()).
    void shrink_by(std::size_t n) noexcept { size_ -= n; }

    /// Sets the size; growth leaves the new bytes uninitialised.
    void resize(std::size_t n) {
        reserve(n);
        size_ = n;
    }

    void append(const void* p, std::size_t n) {
        if (n == 0) return;
        std::memcpy(extend(n), p, n);
    }
    void append(std::span<const std::byte> s) { append(s.data(), s.size()); }
    void append(std::string_view s) { append(s.data(), s.size()); }
    void push_back(std::byte b) { *extend(1) = b; }
    void push_back(std::uint8_t b) { *extend(1) = static_cast<std::byte>(b); }

    /// Removes the first `n` bytes (n <= size()), moving the rest to the front.
    void consume(std::size_t n) noexcept {
        if (n >= size_) {
            size_ = 0;
            return;
        }
        std::memmove(data_.get(), data_.get() + n, size_ - n);
        size_ -= n;
    }

  private:
    struct free_deleter {
        void operator()(std::byte* p) const noexcept { std::free(p); }
    };

    void grow(std::size_t extra) {
        std::size_t want = size_ + extra;
        std::size_t next = capacity_ < 64 ? 64 : capacity_ + capacity_ / 2;
        reallocate(next > want ? next : want);
    }
    void reallocate(std::size_t capacity) {
        // realloc may extend in place, which matters for large frames.
        auto* p = static_cast<std::byte*>(std::realloc(data_.get(), capacity));
        if (p == nullptr) throw std::bad_alloc();
        (void)data_.release();
        data_.reset(p);
        capacity_ = capacity;
    }

    std::unique_ptr<std::byte, free_deleter> data_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

}  // namespace sim

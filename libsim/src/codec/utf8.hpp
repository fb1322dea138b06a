#pragma once
// UTF-8 validation and decoding shared by the codecs.

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sim::detail {

/// Length of the valid UTF-8 sequence starting at p (lead byte >= 0x80), or 0 if invalid.
/// Rejects overlong forms, surrogates (U+D800..U+DFFF) and code points above U+10FFFF.
inline std::size_t utf8_sequence(const unsigned char* p, const unsigned char* end,
                                 std::uint32_t& cp) noexcept {
    auto cont = [](unsigned char c) { return (c & 0xc0) == 0x80; };
    unsigned char c = p[0];
    auto left = static_cast<std::size_t>(end - p);
    if (c >= 0xc2 && c <= 0xdf) {
        if (left < 2 || !cont(p[1])) return 0;
        cp = (std::uint32_t{c} & 0x1f) << 6 | (p[1] & 0x3f);
        return 2;
    }
    if (c >= 0xe0 && c <= 0xef) {
        if (left < 3 || !cont(p[1]) || !cont(p[2])) return 0;
        if (c == 0xe0 && p[1] < 0xa0) return 0;  // overlong
        if (c == 0xed && p[1] > 0x9f) return 0;  // surrogate
        cp = (std::uint32_t{c} & 0x0f) << 12 | (std::uint32_t{p[1]} & 0x3f) << 6 | (p[2] & 0x3f);
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (left < 4 || !cont(p[1]) || !cont(p[2]) || !cont(p[3])) return 0;
        if (c == 0xf0 && p[1] < 0x90) return 0;  // overlong
        if (c == 0xf4 && p[1] > 0x8f) return 0;  // above U+10FFFF
        cp = (std::uint32_t{c} & 0x07) << 18 | (std::uint32_t{p[1]} & 0x3f) << 12 |
             (std::uint32_t{p[2]} & 0x3f) << 6 | (p[3] & 0x3f);
        return 4;
    }
    return 0;
}

/// Offset of the first byte that is not part of valid UTF-8, or `n` if all of it is valid.
inline std::size_t utf8_invalid_at(const char* s, std::size_t n) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(s);
    const auto* end = p + n;
    const auto* q = p;
    while (q < end) {
        // ASCII runs eight bytes at a time: the common case for keys and paths.
        while (end - q >= 8) {
            std::uint64_t w;
            std::memcpy(&w, q, 8);
            if (w & 0x8080808080808080ULL) break;
            q += 8;
        }
        if (q == end) break;
        if (*q < 0x80) {
            ++q;
            continue;
        }
        std::uint32_t cp;
        std::size_t len = utf8_sequence(q, end, cp);
        if (len == 0) return static_cast<std::size_t>(q - p);
        q += len;
    }
    return n;
}

}  // namespace sim::detail

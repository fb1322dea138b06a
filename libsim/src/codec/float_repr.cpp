#include "codec/float_repr.hpp"

#include <charconv>
#include <cstring>
#include <system_error>

namespace sim::detail {

std::size_t float_repr(double d, char* buf) noexcept {
    // to_chars(scientific) gives the shortest round-trip digits as "[-]d[.ddd]e±XX".
    char sci[float_repr_max];
    auto [end, ec] = std::to_chars(sci, sci + sizeof sci, d, std::chars_format::scientific);
    (void)ec;
    const char* p = sci;
    char* out = buf;
    if (*p == '-') {
        *out++ = '-';
        ++p;
    }
    char digits[20];
    std::size_t ndigits = 0;
    while (*p != 'e') {
        if (*p != '.') digits[ndigits++] = *p;
        ++p;
    }
    ++p;  // 'e'
    int exp = 0;
    std::from_chars(*p == '+' ? p + 1 : p, end, exp);

    if (exp < -4 || exp >= 16) {
        *out++ = digits[0];
        if (ndigits > 1) {
            *out++ = '.';
            std::memcpy(out, digits + 1, ndigits - 1);
            out += ndigits - 1;
        }
        *out++ = 'e';
        *out++ = exp < 0 ? '-' : '+';
        int a = exp < 0 ? -exp : exp;
        if (a < 10) *out++ = '0';
        out = std::to_chars(out, buf + float_repr_max, a).ptr;
    } else if (exp >= 0) {
        auto int_len = static_cast<std::size_t>(exp) + 1;
        for (std::size_t i = 0; i < int_len; ++i)
            *out++ = i < ndigits ? digits[i] : '0';
        *out++ = '.';
        if (ndigits > int_len) {
            std::memcpy(out, digits + int_len, ndigits - int_len);
            out += ndigits - int_len;
        } else {
            *out++ = '0';
        }
    } else {
        *out++ = '0';
        *out++ = '.';
        for (int i = -1; i > exp; --i)
            *out++ = '0';
        std::memcpy(out, digits, ndigits);
        out += ndigits;
    }
    return static_cast<std::size_t>(out - buf);
}

}  // namespace sim::detail

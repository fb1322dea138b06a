#include <sim/codec/big_integer.hpp>

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace sim {

std::optional<big_integer> big_integer::parse(std::string_view text) {
    bool neg = false;
    if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
        neg = text[0] == '-';
        text.remove_prefix(1);
    }
    if (text.empty()) return std::nullopt;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
    }
    while (text.size() > 1 && text[0] == '0')
        text.remove_prefix(1);
    if (text == "0") neg = false;
    std::string canonical;
    canonical.reserve(text.size() + 1);
    if (neg) canonical.push_back('-');
    canonical.append(text);
    return big_integer(canonical_tag{}, std::move(canonical));
}

big_integer::big_integer(std::string_view text) {
    auto parsed = parse(text);
    if (!parsed)
        throw std::invalid_argument("not a decimal integer: \"" + std::string(text) + "\"");
    text_ = std::move(parsed->text_);
}

std::optional<std::int64_t> big_integer::to_int64() const noexcept {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), v);
    if (ec != std::errc() || p != text_.data() + text_.size()) return std::nullopt;
    return v;
}

std::optional<std::uint64_t> big_integer::to_uint64() const noexcept {
    if (negative()) return std::nullopt;
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), v);
    if (ec != std::errc() || p != text_.data() + text_.size()) return std::nullopt;
    return v;
}

double big_integer::to_double() const noexcept {
    double d = 0;
    auto [p, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), d);
    (void)p;
    if (ec == std::errc::result_out_of_range) {
        return negative() ? -std::numeric_limits<double>::infinity()
                          : std::numeric_limits<double>::infinity();
    }
    return d;
}

std::strong_ordering operator<=>(const big_integer& a, const big_integer& b) noexcept {
    bool an = a.negative(), bn = b.negative();
    if (an != bn) return an ? std::strong_ordering::less : std::strong_ordering::greater;
    // Same sign: compare magnitudes by length, then digits; flip for negatives.
    auto mag = [](const std::string& s) { return std::string_view(s).substr(s[0] == '-'); };
    auto am = mag(a.text_), bm = mag(b.text_);
    std::strong_ordering r =
        am.size() != bm.size() ? am.size() <=> bm.size() : am.compare(bm) <=> 0;
    if (an) r = 0 <=> r;
    return r;
}

}  // namespace sim

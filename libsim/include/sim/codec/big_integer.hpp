#pragma once
/// An integer of any size, kept exactly as its decimal digits.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sim {

/// An exact integer of any magnitude, as JSON peers (Python) send them. libsim does no arithmetic
/// on it: it keeps the digits so that a value re-encodes unchanged. The text is canonical: an
/// optional '-' followed by decimal digits without leading zeros ("0" for zero, never "-0").
class big_integer {
  public:
    /// Zero.
    big_integer() : text_("0") {}
    explicit big_integer(std::int64_t v) : text_(std::to_string(v)) {}
    explicit big_integer(std::uint64_t v) : text_(std::to_string(v)) {}

    /// Parses `[-]digits` (leading zeros allowed and removed). Returns nullopt for anything else.
    static std::optional<big_integer> parse(std::string_view text);

    /// Parses like `parse`; throws `std::invalid_argument` on malformed text.
    explicit big_integer(std::string_view text);

    /// The canonical decimal text.
    const std::string& str() const noexcept { return text_; }
    bool negative() const noexcept { return text_[0] == '-'; }

    /// The value if it fits the type, else nullopt.
    std::optional<std::int64_t> to_int64() const noexcept;
    std::optional<std::uint64_t> to_uint64() const noexcept;
    /// The nearest double (infinity beyond the double range).
    double to_double() const noexcept;

    friend bool operator==(const big_integer&, const big_integer&) = default;
    /// Numeric order.
    friend std::strong_ordering operator<=>(const big_integer& a, const big_integer& b) noexcept;

  private:
    struct canonical_tag {};
    big_integer(canonical_tag, std::string text) : text_(std::move(text)) {}

    std::string text_;
};

}  // namespace sim

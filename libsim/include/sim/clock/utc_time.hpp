#pragma once
/// A UTC date and time with microseconds: what aiomas agents exchange as arrow dates.

#include <chrono>
#include <compare>
#include <string>
#include <string_view>

#include <sim/codec/serializer_table.hpp>

namespace sim {

/// A point in UTC with microsecond resolution. Its text form is arrow's `str()`, ISO 8601 with an
/// offset: `2016-01-01T12:31:30+00:00`, with `.500000` when there are microseconds.
class utc_time {
  public:
    using duration = std::chrono::microseconds;
    using time_point = std::chrono::sys_time<duration>;

    utc_time() = default;
    explicit utc_time(time_point tp) noexcept : tp_(tp) {}
    /// The current time of the system clock.
    static utc_time now();

    /// Parses ISO 8601: `YYYY-MM-DDTHH:MM:SS[.ffffff]` followed by `Z`, `+HH:MM` or `-HH:MM`
    /// (or nothing: UTC); a space may replace the `T`. Throws `std::invalid_argument`.
    static utc_time parse(std::string_view text);

    /// Arrow's form: `2016-01-01T12:31:30+00:00`.
    std::string to_string() const;
    time_point time() const noexcept { return tp_; }

    /// This many seconds later (earlier when negative), to the microsecond.
    utc_time plus_seconds(double seconds) const noexcept;
    /// Seconds from `other` to this.
    double seconds_since(utc_time other) const noexcept;

    friend auto operator<=>(const utc_time&, const utc_time&) = default;

    /// The codec entry for dates (`{"__type__": [id, "<to_string()>"]}`); a container registers
    /// it first, as aiomas' containers register arrow's.
    static serializer date_serializer();

  private:
    time_point tp_{};
};

}  // namespace sim

template <>
inline constexpr bool sim::enable_object<sim::utc_time> = true;

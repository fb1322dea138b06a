#pragma once
/// A UTC date and time with microseconds: what aiomas agents exchange as arrow dates.

#include <chrono>
#include <compare>
#include <string>
#include <string_view>

#include <sim/codec/serializer_table.hpp>

namespace sim {

/// A point in time with microsecond resolution, and the UTC offset it is written with (arrow keeps
/// the offset a date came with: `2016-01-01T01:00:00+01:00` goes back out as it came). Its text
/// form is arrow's `str()`, ISO 8601 with the offset: `2016-01-01T12:31:30+00:00`, with `.500000`
/// when there are microseconds. Comparisons are of the instants, as arrow's: 01:00+01:00 equals
/// 00:00+00:00.
class utc_time {
  public:
    using duration = std::chrono::microseconds;
    using time_point = std::chrono::sys_time<duration>;

    utc_time() = default;
    explicit utc_time(time_point tp) noexcept : tp_(tp) {}
    /// The instant `tp` (UTC), written at `offset` from UTC (less than a day either way, else
    /// `std::invalid_argument`).
    utc_time(time_point tp, std::chrono::minutes offset);
    /// The current time of the system clock.
    static utc_time now();

    /// Parses ISO 8601: `YYYY-MM-DDTHH:MM:SS[.ffffff]` followed by `Z`, `+HH:MM` or `-HH:MM`
    /// (or nothing: UTC); a space may replace the `T`. Throws `std::invalid_argument`.
    static utc_time parse(std::string_view text);

    /// Arrow's form: `2016-01-01T12:31:30+00:00`, at this date's offset.
    std::string to_string() const;
    /// The instant, in UTC.
    time_point time() const noexcept { return tp_; }
    /// The offset from UTC it is written with (`+01:00`: 60 minutes).
    std::chrono::minutes utc_offset() const noexcept { return offset_; }
    /// The same instant written at offset 0.
    utc_time to_utc() const noexcept { return utc_time(tp_); }

    /// This many seconds later (earlier when negative), to the microsecond, at the same offset.
    utc_time plus_seconds(double seconds) const noexcept;
    /// Seconds from `other` to this.
    double seconds_since(utc_time other) const noexcept;

    friend bool operator==(const utc_time& a, const utc_time& b) noexcept { return a.tp_ == b.tp_; }
    friend auto operator<=>(const utc_time& a, const utc_time& b) noexcept {
        return a.tp_ <=> b.tp_;
    }

    /// The codec entry for dates (`{"__type__": [id, "<to_string()>"]}`); a container registers
    /// it first, as aiomas' containers register arrow's.
    static serializer date_serializer();

  private:
    time_point tp_{};
    std::chrono::minutes offset_{0};
};

}  // namespace sim

template <>
inline constexpr bool sim::enable_object<sim::utc_time> = true;

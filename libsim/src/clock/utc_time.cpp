#include <sim/clock/utc_time.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace sim {

namespace {

[[noreturn]] void invalid(std::string_view text, std::string_view why) {
    throw std::invalid_argument("invalid date \"" + std::string(text) + "\": " + std::string(why) +
                                " (expected ISO 8601 such as 2016-01-01T12:30:00+00:00)");
}

int digits(std::string_view text, std::string_view whole, std::size_t at, std::size_t n) {
    if (at + n > text.size()) invalid(whole, "too short");
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (text[i] < '0' || text[i] > '9') invalid(whole, "expected a digit");
        v = v * 10 + (text[i] - '0');
    }
    return v;
}

void expect(std::string_view text, std::string_view whole, std::size_t at, char c) {
    if (at >= text.size() || text[at] != c) invalid(whole, std::string("expected '") + c + "'");
}

}  // namespace

utc_time utc_time::now() {
    return utc_time(std::chrono::time_point_cast<duration>(std::chrono::system_clock::now()));
}

utc_time utc_time::parse(std::string_view text) {
    using namespace std::chrono;
    const std::string_view t = text;
    int y = digits(t, text, 0, 4);
    expect(t, text, 4, '-');
    int mo = digits(t, text, 5, 2);
    expect(t, text, 7, '-');
    int d = digits(t, text, 8, 2);
    if (t.size() <= 10 || (t[10] != 'T' && t[10] != ' '))
        invalid(text, "expected 'T' after the date");
    int h = digits(t, text, 11, 2);
    expect(t, text, 13, ':');
    int mi = digits(t, text, 14, 2);
    expect(t, text, 16, ':');
    int s = digits(t, text, 17, 2);
    std::size_t at = 19;
    std::int64_t micros = 0;
    if (at < t.size() && t[at] == '.') {
        ++at;
        std::size_t start = at;
        while (at < t.size() && t[at] >= '0' && t[at] <= '9')
            ++at;
        std::size_t n = at - start;
        if (n == 0) invalid(text, "expected digits after '.'");
        for (std::size_t i = 0; i < 6; ++i)
            micros = micros * 10 + (i < n ? t[start + i] - '0' : 0);
    }
    minutes offset{0};
    if (at < t.size()) {
        if (t[at] == 'Z') {
            ++at;
        } else if (t[at] == '+' || t[at] == '-') {
            int sign = t[at] == '-' ? -1 : 1;
            int oh = digits(t, text, at + 1, 2);
            std::size_t next = at + 3;
            int om = 0;
            if (next < t.size() && t[next] == ':') ++next;
            if (next < t.size()) {
                om = digits(t, text, next, 2);
                next += 2;
            }
            offset = minutes(sign * (oh * 60 + om));
            at = next;
        } else {
            invalid(text, "unexpected characters after the time");
        }
    }
    if (at != t.size()) invalid(text, "unexpected characters at the end");
    year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
    if (!ymd.ok()) invalid(text, "no such day");
    if (h > 23 || mi > 59 || s > 59) invalid(text, "no such time of day");
    if (offset <= -hours(24) || offset >= hours(24)) invalid(text, "an offset of a day or more");
    auto tp = sys_days(ymd) + hours(h) + minutes(mi) + seconds(s) + microseconds(micros) - offset;
    return utc_time(time_point_cast<duration>(tp), offset);
}

utc_time::utc_time(time_point tp, std::chrono::minutes offset) : tp_(tp), offset_(offset) {
    if (offset <= -std::chrono::hours(24) || offset >= std::chrono::hours(24))
        throw std::invalid_argument("a UTC offset must be less than a day");
}

std::string utc_time::to_string() const {
    using namespace std::chrono;
    // The wall-clock time at the offset, then the offset: arrow's (and isoformat's) form.
    const time_point local = tp_ + offset_;
    auto day_start = floor<days>(local);
    year_month_day ymd(day_start);
    hh_mm_ss<duration> hms(local - day_start);
    char buf[64];
    int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d",
                          static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                          static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                          static_cast<int>(hms.minutes().count()),
                          static_cast<int>(hms.seconds().count()));
    std::string out(buf, static_cast<std::size_t>(n));
    if (auto us = hms.subseconds().count(); us != 0) {
        std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(us));
        out += buf;
    }
    const auto off = offset_.count();
    const auto abs_off = off < 0 ? -off : off;
    std::snprintf(buf, sizeof buf, "%c%02lld:%02lld", off < 0 ? '-' : '+',
                  static_cast<long long>(abs_off / 60), static_cast<long long>(abs_off % 60));
    out += buf;
    return out;
}

utc_time utc_time::plus_seconds(double seconds) const noexcept {
    utc_time later = *this;
    later.tp_ += duration(static_cast<std::int64_t>(std::llround(seconds * 1e6)));
    return later;
}

double utc_time::seconds_since(utc_time other) const noexcept {
    return std::chrono::duration<double>(tp_ - other.tp_).count();
}

serializer utc_time::date_serializer() {
    return serializer::of<utc_time>([](const utc_time& t) { return value(t.to_string()); },
                                    [](const value& v) { return utc_time::parse(v.as_string()); });
}

}  // namespace sim

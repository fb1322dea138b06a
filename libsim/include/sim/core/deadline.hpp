#pragma once
/// A point in (steady, real) time by which something must happen.

#include <chrono>

namespace sim {

/// When a wait gives up. Built from a duration (`deadline(2s)`), a time point, or `never()`.
class deadline {
  public:
    using clock = std::chrono::steady_clock;

    /// Never.
    constexpr deadline() noexcept : at_(clock::time_point::max()) {}
    /// This long from now; zero or negative: already expired; beyond a century: never.
    template <class Rep, class Period>
    deadline(std::chrono::duration<Rep, Period> in)  // NOLINT(google-explicit-constructor)
        : at_(std::chrono::duration<double>(in) > std::chrono::hours(24 * 365 * 100)
                  ? clock::time_point::max()
                  : clock::now() + std::chrono::duration_cast<clock::duration>(in)) {}
    explicit constexpr deadline(clock::time_point at) noexcept : at_(at) {}

    static constexpr deadline never() noexcept { return deadline(); }
    /// Seconds as a double (aiomas speaks seconds): `deadline::in_seconds(0.5)`.
    static deadline in_seconds(double s) {
        return deadline(
            std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(s)));
    }

    clock::time_point time_point() const noexcept { return at_; }
    bool is_never() const noexcept { return at_ == clock::time_point::max(); }
    bool expired() const noexcept { return !is_never() && clock::now() >= at_; }
    /// Time left, zero when expired.
    clock::duration remaining() const noexcept {
        if (is_never()) return clock::duration::max();
        auto now = clock::now();
        return at_ > now ? at_ - now : clock::duration::zero();
    }

    /// The earlier of two deadlines.
    friend deadline earliest(deadline a, deadline b) noexcept { return a.at_ < b.at_ ? a : b; }
    friend bool operator==(const deadline&, const deadline&) = default;

  private:
    clock::time_point at_;
};

}  // namespace sim

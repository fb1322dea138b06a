#pragma once
/// Tiered time, how a mosaik master orders steps inside groups of simulators
/// (../shared/docs/mosaik-scheduler.md §3).
///
/// A simulator inside d nested groups has times of d + 1 integer tiers `[t, k1, ..., kd]`,
/// ordered lexicographically: `t` is the world's time step and `ki` counts the rounds of a
/// same-time loop in the i-th group. A connection between two simulators is a `tiered_interval`:
/// applied to a time of the source, it gives the earliest time of the destination that may see
/// the data. The tiers of the groups both share (up to the deepest common one) are added; those
/// of groups the data leaves are dropped, and those of groups it enters start at the interval's
/// own tiers (zero, unless a weak connection moves it to the next round).
///
///     A and B in one group:  A -> B is [0, 0] (cutoff 2), B -> A weak is [0, 1]
///     tiered_time{2, 0} + interval(B -> A weak) == tiered_time{2, 1}

#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace sim::mosaik {

/// The tiers of a time or an interval, outermost first.
using tier_list = std::vector<std::int64_t>;

/// A time of a simulator: its tiers, the world's time step first.
class tiered_time {
  public:
    tiered_time() = default;
    tiered_time(std::initializer_list<std::int64_t> tiers) : tiers_(tiers) {}
    explicit tiered_time(tier_list tiers) : tiers_(std::move(tiers)) {}

    /// World time `t` as a simulator with `depth` tiers sees it: `[t, 0, ..., 0]`.
    static tiered_time from_world_time(std::int64_t t, std::size_t depth);

    /// The world's time step (tier 0).
    std::int64_t time() const noexcept { return tiers_.empty() ? 0 : tiers_.front(); }
    std::size_t depth() const noexcept { return tiers_.size(); }
    const tier_list& tiers() const noexcept { return tiers_; }

    /// Lexicographic; only times of the same depth are compared (`std::logic_error` otherwise:
    /// it is a master's mistake, not a peer's).
    friend std::strong_ordering operator<=>(const tiered_time& a, const tiered_time& b);
    friend bool operator==(const tiered_time& a, const tiered_time& b) {
        return (a <=> b) == std::strong_ordering::equal;
    }

    /// `2:1:0`, as mosaik writes it (and as execution-graph node ids use it).
    std::string to_string() const;

  private:
    tier_list tiers_;
};

/// The delay of a connection, or of a path of connections: applied to a time of `pre_length`
/// tiers, it adds its first `cutoff` tiers to the time's first `cutoff` tiers, drops the time's
/// other tiers and appends its own remaining ones. The result has `tiers().size()` tiers.
class tiered_interval {
  public:
    /// Throws `std::invalid_argument` unless 1 <= cutoff <= pre_length and cutoff <= tiers.size(),
    /// and every tier is >= 0.
    tiered_interval(tier_list tiers, std::size_t cutoff, std::size_t pre_length);
    /// The interval that changes nothing: `depth` tiers of 0, all added.
    static tiered_interval zero(std::size_t depth);

    const tier_list& tiers() const noexcept { return tiers_; }
    std::size_t cutoff() const noexcept { return cutoff_; }
    std::size_t pre_length() const noexcept { return pre_length_; }
    /// The number of tiers of the times it gives.
    std::size_t length() const noexcept { return tiers_.size(); }

    /// `a` then `b`: `t + (a + b) == (t + a) + b` for every time `t` (b's pre_length must be
    /// a's length, else `std::logic_error`).
    friend tiered_interval operator+(const tiered_interval& a, const tiered_interval& b);
    /// The time `interval` after `t` (t's depth must be the interval's pre_length).
    friend tiered_time operator+(const tiered_time& t, const tiered_interval& interval);

    /// Dominance: `a < b` when `t + a <= t + b` for every time `t` and they differ for some,
    /// equivalent when they agree for every `t`, unordered when it depends on `t` (a tier one of
    /// them adds to and the other replaces). Intervals of different shapes (length or
    /// pre_length) are a `std::logic_error`.
    friend std::partial_ordering operator<=>(const tiered_interval& a, const tiered_interval& b);
    friend bool operator==(const tiered_interval& a, const tiered_interval& b) {
        return a.tiers_ == b.tiers_ && a.cutoff_ == b.cutoff_ && a.pre_length_ == b.pre_length_;
    }

    /// `0:1|0(2)`: the added tiers, the appended ones, and the pre_length.
    std::string to_string() const;

  private:
    tier_list tiers_;
    std::size_t cutoff_;
    std::size_t pre_length_;
};

/// The groups a simulator is in, outermost first, by any ids unique in the world (mosaik's
/// `world.group()` blocks). A simulator outside every group has an empty path; its times have
/// one tier, and a simulator inside d groups has d + 1.
using group_path = std::span<const std::string>;

/// The delay of a connection from a simulator in `from` to one in `to`: `time_shift` steps
/// later (0, or mosaik's `time_shifted`), and, when `weak`, one round later in the deepest group
/// both share. Throws `std::invalid_argument` for a weak connection between simulators that
/// share no group (mosaik 3.3 allows weak connections only inside groups) and for a negative
/// shift.
tiered_interval connect_interval(group_path from, group_path to, std::int64_t time_shift,
                                 bool weak);

}  // namespace sim::mosaik

#include <sim/mosaik/tiered_time.hpp>

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace sim::mosaik {

tiered_time tiered_time::from_world_time(std::int64_t t, std::size_t depth) {
    tier_list tiers(std::max<std::size_t>(depth, 1), 0);
    tiers.front() = t;
    return tiered_time(std::move(tiers));
}

std::strong_ordering operator<=>(const tiered_time& a, const tiered_time& b) {
    if (a.depth() != b.depth()) {
        throw std::logic_error("comparing tiered times of different depths: " + a.to_string() +
                               " and " + b.to_string());
    }
    return a.tiers_ <=> b.tiers_;
}

std::string tiered_time::to_string() const {
    return fmt::format("{}", fmt::join(tiers_, ":"));
}

tiered_interval::tiered_interval(tier_list tiers, std::size_t cutoff, std::size_t pre_length)
    : tiers_(std::move(tiers)), cutoff_(cutoff), pre_length_(pre_length) {
    if (cutoff_ < 1 || cutoff_ > pre_length_ || cutoff_ > tiers_.size()) {
        throw std::invalid_argument(fmt::format(
            "a tiered interval needs 1 <= cutoff <= pre_length and cutoff <= its length (cutoff "
            "{}, pre_length {}, length {})",
            cutoff_, pre_length_, tiers_.size()));
    }
    if (std::any_of(tiers_.begin(), tiers_.end(), [](std::int64_t x) { return x < 0; }))
        throw std::invalid_argument("a tiered interval has no negative tiers: " + to_string());
}

tiered_interval tiered_interval::zero(std::size_t depth) {
    return tiered_interval(tier_list(depth, 0), depth, depth);
}

tiered_interval operator+(const tiered_interval& a, const tiered_interval& b) {
    if (a.length() != b.pre_length()) {
        throw std::logic_error("cannot follow " + a.to_string() + " by " + b.to_string() +
                               ": the first gives times of " + std::to_string(a.length()) +
                               " tiers, the second takes " + std::to_string(b.pre_length()));
    }
    // Applied to t: a keeps t's first a.cutoff tiers (adding to them) and appends the rest of
    // its own; b then adds to the first b.cutoff tiers of that and appends the rest of its own.
    // What b adds to lands on t's tiers below a.cutoff and on a's appended tiers above it.
    tier_list tiers;
    tiers.reserve(b.length());
    const std::size_t shared = std::min(a.cutoff(), b.cutoff());
    for (std::size_t i = 0; i < shared; ++i)
        tiers.push_back(a.tiers()[i] + b.tiers()[i]);
    for (std::size_t i = shared; i < b.cutoff(); ++i)  // a appended these, b adds to them
        tiers.push_back(a.tiers()[i] + b.tiers()[i]);
    for (std::size_t i = b.cutoff(); i < b.length(); ++i)
        tiers.push_back(b.tiers()[i]);
    return tiered_interval(std::move(tiers), shared, a.pre_length());
}

tiered_time operator+(const tiered_time& t, const tiered_interval& interval) {
    if (t.depth() != interval.pre_length()) {
        throw std::logic_error("cannot add " + interval.to_string() + " to the time " +
                               t.to_string() + " of " + std::to_string(t.depth()) + " tiers");
    }
    tier_list tiers;
    tiers.reserve(interval.length());
    for (std::size_t i = 0; i < interval.cutoff(); ++i)
        tiers.push_back(t.tiers()[i] + interval.tiers()[i]);
    for (std::size_t i = interval.cutoff(); i < interval.length(); ++i)
        tiers.push_back(interval.tiers()[i]);
    return tiered_time(std::move(tiers));
}

std::partial_ordering operator<=>(const tiered_interval& a, const tiered_interval& b) {
    if (a.length() != b.length() || a.pre_length() != b.pre_length()) {
        throw std::logic_error("comparing tiered intervals of different shapes: " + a.to_string() +
                               " and " + b.to_string());
    }
    // Dominance: a < b when t + a <= t + b for every time t (and not always equal). Tier by
    // tier: where both add or both replace, the tiers decide. Where one adds to the time's tier
    // and the other replaces it, the one that adds is at least as late if its own tier is at
    // least as large (strictly later for some times), and it depends on the time otherwise.
    // A tier that leans one way counts unless a later tier decides the other way, which
    // makes the two unordered (mosaik compares the tiers alone here and misses those cases).
    enum class side { none, first, second };
    side lean = side::none;  // which is at least as late so far, later for some times
    auto decided = [&lean](side later) {
        if (lean != side::none && lean != later) return std::partial_ordering::unordered;
        return later == side::first ? std::partial_ordering::greater : std::partial_ordering::less;
    };
    for (std::size_t i = 0; i < a.length(); ++i) {
        const std::int64_t x = a.tiers()[i];
        const std::int64_t y = b.tiers()[i];
        const bool a_adds = i < a.cutoff();
        const bool b_adds = i < b.cutoff();
        if (a_adds == b_adds) {
            if (x != y) return decided(x > y ? side::first : side::second);
            continue;
        }
        const side adder = a_adds ? side::first : side::second;
        const std::int64_t added = a_adds ? x : y;
        const std::int64_t replaced = a_adds ? y : x;
        if (added > replaced) return decided(adder);
        if (added < replaced) return std::partial_ordering::unordered;
        if (lean != side::none && lean != adder) return std::partial_ordering::unordered;
        lean = adder;
    }
    if (lean == side::none) return std::partial_ordering::equivalent;
    return lean == side::first ? std::partial_ordering::greater : std::partial_ordering::less;
}

std::string tiered_interval::to_string() const {
    const auto cut = tiers_.begin() + static_cast<std::ptrdiff_t>(cutoff_);
    return fmt::format("{}|{}({})", fmt::join(tiers_.begin(), cut, ":"),
                       fmt::join(cut, tiers_.end(), ":"), pre_length_);
}

tiered_interval connect_interval(group_path from, group_path to, std::int64_t time_shift,
                                 bool weak) {
    if (time_shift < 0)
        throw std::invalid_argument("a time shift is not negative: " + std::to_string(time_shift));
    std::size_t common = 0;  // groups both are in, outermost first
    while (common < from.size() && common < to.size() && from[common] == to[common])
        ++common;
    if (weak && common == 0) {
        throw std::invalid_argument(
            "a weak connection needs a group that holds both simulators (as in mosaik 3.3)");
    }
    // The tiers up to the deepest common group carry over; the destination's deeper ones start
    // at 0; a weak connection is one round later in the deepest common group.
    tier_list tiers(to.size() + 1, 0);
    tiers.front() += time_shift;
    if (weak) tiers[common] += 1;
    return tiered_interval(std::move(tiers), common + 1, from.size() + 1);
}

}  // namespace sim::mosaik

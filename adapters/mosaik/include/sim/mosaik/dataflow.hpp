#pragma once
/// The delays along paths of a world's connections (mosaik-scheduler.md §2, §4): a master needs
/// the shortest delay from every simulator to every other (to refuse cycles of no delay, which
/// would make a simulator wait for itself) and from every triggering ancestor (to bound a
/// simulator's progress and its `max_advance`).
///
/// Delays are tiered intervals, which are only partly ordered: two paths may each be shorter
/// for some times. So the "shortest delay" between two simulators is the set of delays no other
/// path beats for every time (`minimal_delays`), and a bound takes the earliest over that set.
/// (mosaik keeps one delay per pair, compares incomparable ones as if they were ordered, and
/// seeds the ancestors' delays with the last connection instead of the shortest.)

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <sim/mosaik/tiered_time.hpp>

namespace sim::mosaik {

/// One connection between two simulators (indices into the world's simulators) with its delay.
struct dataflow_edge {
    std::size_t from = 0;
    std::size_t to = 0;
    tiered_interval delay;
};

/// Delays no other path beats for every time, each with the path of simulators that has it.
class minimal_delays {
  public:
    struct entry {
        tiered_interval delay;
        std::vector<std::size_t> path;  ///< from the source to the destination, both included
    };

    /// Adds a path's delay unless one already kept is at most it for every time; drops the
    /// kept ones it beats. True if it was kept.
    bool offer(const tiered_interval& delay, std::vector<std::size_t> path);

    const std::vector<entry>& entries() const noexcept { return entries_; }
    bool empty() const noexcept { return entries_.empty(); }
    /// The earliest time a step of the source at `t` can reach the destination.
    tiered_time earliest(const tiered_time& t) const;

  private:
    std::vector<entry> entries_;
};

/// For each simulator s, `result[s][d]` holds the minimal delays of paths from s to d over
/// `edges` (absent when d cannot be reached; d == s for paths that come back).
std::vector<std::vector<std::optional<minimal_delays>>> path_delays(
    std::size_t simulators, const std::vector<dataflow_edge>& edges);

/// A path from a simulator back to itself whose delay is zero in every tier: the simulator
/// would wait for its own output of the same time. Empty when there is none; otherwise the
/// simulators along it, the first repeated at the end (mosaik refuses such a world).
std::vector<std::size_t> zero_delay_cycle(std::size_t simulators,
                                          const std::vector<dataflow_edge>& edges);

/// "A -> B -> A", naming the simulators of a cycle by `names`.
std::string describe_path(const std::vector<std::size_t>& path,
                          const std::vector<std::string>& names);

}  // namespace sim::mosaik

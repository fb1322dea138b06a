#include <sim/mosaik/dataflow.hpp>

#include <algorithm>
#include <deque>
#include <stdexcept>

namespace sim::mosaik {

namespace {

bool all_zero(const tiered_interval& d) {
    return std::all_of(d.tiers().begin(), d.tiers().end(), [](std::int64_t x) { return x == 0; });
}

// Composed delays settle: going round a loop again gives a delay the one without it beats, or
// one already kept (appended tiers are replaced, not summed). This bounds the work should a
// world prove otherwise, rather than looping.
constexpr std::size_t max_relaxations = 1'000'000;

}  // namespace

bool minimal_delays::offer(const tiered_interval& delay, std::vector<std::size_t> path) {
    for (const auto& e : entries_) {
        const auto order = e.delay <=> delay;
        if (order == std::partial_ordering::less || order == std::partial_ordering::equivalent)
            return false;
    }
    std::erase_if(entries_, [&](const entry& e) {
        return (delay <=> e.delay) == std::partial_ordering::less;
    });
    entries_.push_back({delay, std::move(path)});
    return true;
}

tiered_time minimal_delays::earliest(const tiered_time& t) const {
    if (entries_.empty()) throw std::logic_error("minimal_delays::earliest of no path");
    tiered_time best = t + entries_.front().delay;
    for (std::size_t i = 1; i < entries_.size(); ++i)
        best = std::min(best, t + entries_[i].delay);
    return best;
}

std::vector<std::vector<std::optional<minimal_delays>>> path_delays(
    std::size_t simulators, const std::vector<dataflow_edge>& edges) {
    std::vector<std::vector<std::size_t>> out_edges(simulators);
    for (std::size_t i = 0; i < edges.size(); ++i) {
        if (edges[i].from >= simulators || edges[i].to >= simulators)
            throw std::invalid_argument("a dataflow edge names a simulator that is not there");
        out_edges[edges[i].from].push_back(i);
    }
    std::vector<std::vector<std::optional<minimal_delays>>> result(
        simulators, std::vector<std::optional<minimal_delays>>(simulators));
    for (std::size_t source = 0; source < simulators; ++source) {
        auto& reach = result[source];
        // Paths grow one edge at a time from every delay newly kept.
        std::deque<std::pair<std::size_t, minimal_delays::entry>> work;  // (destination, path)
        const auto offer = [&](std::size_t to, const tiered_interval& delay,
                               std::vector<std::size_t> path) {
            if (!reach[to]) reach[to].emplace();
            if (reach[to]->offer(delay, path))
                work.emplace_back(to, minimal_delays::entry{delay, path});
        };
        for (std::size_t e : out_edges[source])
            offer(edges[e].to, edges[e].delay, {source, edges[e].to});
        std::size_t relaxations = 0;
        while (!work.empty()) {
            auto [mid, kept] = std::move(work.front());
            work.pop_front();
            // A path beaten meanwhile needs no extending: the one that beat it is extended too.
            const auto& now = reach[mid]->entries();
            if (std::none_of(now.begin(), now.end(),
                             [&](const auto& e) { return e.delay == kept.delay; }))
                continue;
            for (std::size_t e : out_edges[mid]) {
                if (++relaxations > max_relaxations)
                    throw std::logic_error("path_delays did not settle");
                auto path = kept.path;
                path.push_back(edges[e].to);
                offer(edges[e].to, kept.delay + edges[e].delay, std::move(path));
            }
        }
    }
    return result;
}

std::vector<std::size_t> zero_delay_cycle(std::size_t simulators,
                                          const std::vector<dataflow_edge>& edges) {
    const auto delays = path_delays(simulators, edges);
    for (std::size_t s = 0; s < simulators; ++s) {
        if (!delays[s][s]) continue;
        // A zero delay is beaten by nothing, so it is kept whenever a path has one.
        for (const auto& e : delays[s][s]->entries()) {
            if (all_zero(e.delay)) return e.path;
        }
    }
    return {};
}

std::string describe_path(const std::vector<std::size_t>& path,
                          const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (i > 0) out += " -> ";
        out += path[i] < names.size() ? names[path[i]] : "#" + std::to_string(path[i]);
    }
    return out;
}

}  // namespace sim::mosaik

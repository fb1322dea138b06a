#include "scenario/runner_service.hpp"

#include <sim/agent/agent.hpp>

namespace sim::detail {

std::vector<std::string> observables_of(const container& c, const std::string& id) {
    const agent* a = c.find(id);
    return a != nullptr ? a->observables() : std::vector<std::string>{};
}

std::vector<std::vector<value>> observe(container& c, const std::vector<std::string>& ids,
                                        const std::vector<std::string>& names) {
    std::vector<std::vector<value>> rows;
    rows.reserve(ids.size());
    for (const auto& id : ids) {
        agent* a = c.find(id);
        std::vector<value> row;
        row.reserve(names.size());
        for (const auto& n : names)
            row.push_back(a != nullptr ? a->observe(n) : value());
        rows.push_back(std::move(row));
    }
    return rows;
}

container_stats stats_of(container& c) {
    const bool virtual_time = std::holds_alternative<sim::virtual_time>(c.options().clock);
    return {c.calls_served(), virtual_time ? c.virtual_clock().wakeups() : 0};
}

runner_service::runner_service(container& c) {
    c.router().add(name, router_);
    router_.expose("release_starts", [&c] { c.release_starts(); });
    router_.expose(
        "observables", [&c](const std::string& id) { return observables_of(c, id); }, arg("id"));
    router_.expose(
        "observe",
        [&c](const std::vector<std::string>& ids, const std::vector<std::string>& names) {
            return observe(c, ids, names);
        },
        arg("ids"), arg("names"));
    router_.expose("stats", [&c] {
        const container_stats s = stats_of(c);
        return std::vector<std::uint64_t>{s.calls, s.wakeups};
    });
}

}  // namespace sim::detail

#include "scenario/plan.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <set>
#include <utility>

#include <fmt/format.h>

namespace sim::detail {

std::string local_name(const scenario& s, const scenario_container& c) {
    static std::atomic<int> runs{0};
    return fmt::format("local://{}-{}-{}-{}", s.name, c.name, ::getpid(), runs++);
}

std::size_t container_index(const scenario& s, const std::string& name) {
    for (std::size_t i = 0; i < s.containers.size(); ++i) {
        if (s.containers[i].name == name) return i;
    }
    return 0;
}

std::size_t group_index(const scenario& s, const std::string& name) {
    for (std::size_t i = 0; i < s.agents.size(); ++i) {
        if (s.agents[i].name == name) return i;
    }
    return 0;
}

placement plan_placement(const scenario& s, const std::vector<std::string>& base_urls,
                         std::vector<std::size_t> next_id) {
    placement plan;
    plan.groups.resize(s.agents.size());
    for (std::size_t g = 0; g < s.agents.size(); ++g) {
        const auto& spec = s.agents[g];
        const std::size_t parts = spec.containers.size();
        for (std::size_t k = 0; k < spec.count; ++k) {
            // Contiguous blocks, the first ones one larger when the count does not divide.
            const std::size_t base = spec.count / parts, extra = spec.count % parts;
            std::size_t part = 0, end = base + (extra > 0 ? 1 : 0);
            while (k >= end) {
                ++part;
                end += base + (part < extra ? 1 : 0);
            }
            planned_agent a;
            a.group = g;
            a.index = k;
            a.container = container_index(s, spec.containers[part]);
            a.id = std::to_string(next_id[a.container]++);
            a.address = base_urls[a.container] + a.id;
            plan.groups[g].push_back(std::move(a));
        }
        plan.agents += spec.count;
    }
    return plan;
}

value draw(const scenario_param& p, sim::rng& r) {
    switch (p.k) {
        case scenario_param::kind::constant:
            return p.constant;
        case scenario_param::kind::uniform:
            return value(p.a + (p.b - p.a) * r.uniform());
        case scenario_param::kind::normal: {
            // Box-Muller on two uniforms in (0, 1]: the same numbers on every platform.
            double u1 = 1.0 - r.uniform(), u2 = r.uniform();
            return value(p.a + p.b * std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2));
        }
        case scenario_param::kind::randint: {
            auto lo = static_cast<std::int64_t>(p.a), hi = static_cast<std::int64_t>(p.b);
            if (hi < lo) std::swap(lo, hi);
            return value(
                lo + static_cast<std::int64_t>(r.below(static_cast<std::uint64_t>(hi - lo + 1))));
        }
        case scenario_param::kind::choice: {
            const array& options = p.constant.as_array();
            return options[r.below(options.size())];
        }
    }
    return {};
}

array peers_of(const scenario& s, const placement& plan, std::size_t g, std::size_t k,
               sim::rng& peers) {
    const scenario_agents& spec = s.agents[g];
    const auto& members = plan.groups[g];
    const std::size_t n = members.size();
    array knows;
    switch (spec.knows.k) {
        case scenario_topology::kind::all:
            for (std::size_t j = 0; j < n; ++j)
                if (j != k) knows.push_back(value(members[j].address));
            break;
        case scenario_topology::kind::ring:
            if (n > 1) knows.push_back(value(members[(k + n - 1) % n].address));
            if (n > 2) knows.push_back(value(members[(k + 1) % n].address));
            break;
        case scenario_topology::kind::random: {
            std::set<std::size_t> chosen;
            while (chosen.size() < static_cast<std::size_t>(spec.knows.degree)) {
                std::size_t j = peers.below(n);
                if (j != k && chosen.insert(j).second) knows.push_back(value(members[j].address));
            }
            break;
        }
        case scenario_topology::kind::star:
            for (const auto& centre : plan.groups[group_index(s, spec.knows.group)])
                if (centre.address != members[k].address) knows.push_back(value(centre.address));
            break;
        case scenario_topology::kind::explicit_list:
            for (const auto& ref : spec.knows.agents) {
                auto slash = ref.rfind('/');
                const auto& target = plan.groups[group_index(s, ref.substr(0, slash))];
                knows.push_back(value(target[std::stoul(ref.substr(slash + 1))].address));
            }
            break;
        case scenario_topology::kind::none:
            break;
    }
    return knows;
}

std::vector<std::vector<spawn_request>> spawn_requests(const scenario& s, const placement& plan,
                                                       std::uint64_t seed, std::size_t containers) {
    std::vector<std::vector<spawn_request>> requests(containers);
    for (std::size_t g = 0; g < s.agents.size(); ++g) {
        const scenario_agents& spec = s.agents[g];
        // One stream per parameter, one for the peers: adding a parameter changes no other draw.
        std::vector<sim::rng> draws;
        for (const auto& [name, p] : spec.params)
            draws.emplace_back(seed, "params/" + spec.name + "/" + name);
        sim::rng peers(seed, "knows/" + spec.name);
        const auto& members = plan.groups[g];
        for (std::size_t k = 0; k < members.size(); ++k) {
            map kwargs;
            for (std::size_t p = 0; p < spec.params.size(); ++p) {
                kwargs.insert_or_assign(value(spec.params[p].first),
                                        draw(spec.params[p].second, draws[p]));
            }
            if (spec.knows.k != scenario_topology::kind::none)
                kwargs.insert_or_assign(value("knows"), value(peers_of(s, plan, g, k, peers)));
            requests[members[k].container].push_back(
                {spec.type, std::move(kwargs), members[k].id, &spec});
        }
    }
    // Each container makes its agents in id order, as planned.
    for (auto& r : requests) {
        std::stable_sort(r.begin(), r.end(), [](const auto& a, const auto& b) {
            return std::stoul(a.id) < std::stoul(b.id);
        });
    }
    return requests;
}

}  // namespace sim::detail

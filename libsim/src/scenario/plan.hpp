#pragma once
// The plan of a run: which agent goes into which container with which id, what parameters each
// is made with, and whom it knows. Everything here follows from the scenario and the seed
// alone, so that a run is the same whatever the threads, processes and transports.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <sim/agent/rng.hpp>
#include <sim/codec/value.hpp>
#include <sim/scenario/scenario.hpp>

#include "scenario/hosts.hpp"

namespace sim::detail {

// One agent of the scenario: where it lives and what it is made with.
struct planned_agent {
    std::size_t group = 0;
    std::size_t index = 0;      // within the group
    std::size_t container = 0;  // index into the scenario's containers
    std::string id;
    std::string address;
};

/// Every agent of the scenario, by group (in the file's order) and within a group in order.
struct placement {
    std::vector<std::vector<planned_agent>> groups;
    std::size_t agents = 0;
};

/// The index of the container or agent group of that name (the loader checked that it exists).
std::size_t container_index(const scenario& s, const std::string& name);
std::size_t group_index(const scenario& s, const std::string& name);

/// An in-process address for a container of `s` that no other run in this process uses.
std::string local_name(const scenario& s, const scenario_container& c);

/// Places each group's agents over its containers in contiguous blocks (the first blocks one
/// larger when the count does not divide); ids count up per container from its `first_ids`,
/// addresses are its `base_urls` plus the id.
placement plan_placement(const scenario& s, const std::vector<std::string>& base_urls,
                         std::vector<std::size_t> first_ids);

/// One draw of a parameter from its own random stream.
value draw(const scenario_param& p, sim::rng& r);

/// The addresses that agent `k` of group `g` knows, by its group's topology (`peers` draws the
/// random one).
array peers_of(const scenario& s, const placement& plan, std::size_t g, std::size_t k,
               sim::rng& peers);

/// What each of `containers` makes, in id order: type, drawn parameters and peers, planned id.
std::vector<std::vector<spawn_request>> spawn_requests(const scenario& s, const placement& plan,
                                                       std::uint64_t seed, std::size_t containers);

}  // namespace sim::detail

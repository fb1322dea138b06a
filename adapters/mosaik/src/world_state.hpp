#pragma once
// The state a world keeps per simulator, shared by its setup (world.cpp) and its run
// (world_run.cpp).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <sim/mosaik/world.hpp>

namespace sim::mosaik {

// eid -> attr -> source full id -> value, the shape of step's inputs.
inline value& slot_of(map& inputs, const std::string& eid, const std::string& attr) {
    value* e = inputs.find(value(eid));
    if (e == nullptr) {
        inputs.insert_or_assign(value(eid), value(map{}));
        e = inputs.find(value(eid));
    }
    map& attrs = e->as_map();
    value* a = attrs.find(value(attr));
    if (a == nullptr) {
        attrs.insert_or_assign(value(attr), value(map{}));
        a = attrs.find(value(attr));
    }
    return *a;
}

inline const value* lookup_of(const value& data, const std::string& eid, const std::string& attr) {
    if (!data.is_map()) return nullptr;
    const value* e = data.as_map().find(value(eid));
    if (e == nullptr || !e->is_map()) return nullptr;
    return e->as_map().find(value(attr));
}

struct world::sim_state {
    std::string sid;
    std::size_t index = 0;
    std::vector<std::string> groups;
    std::unique_ptr<coupled_simulator> sim;
    sim_type type = sim_type::time_based;
    std::map<std::string, attribute_classes> models;
    std::map<std::string, std::string> entity_model;  // eid -> model
    std::set<std::string> extra_methods;

    // Connections, as consumer and as provider.
    std::map<std::size_t, minimal_delays> input_delays;  // provider -> delay
    std::map<std::size_t, tiered_interval> successors;   // consumer -> tiers conversion
    // async_requests connections: consumers this one waits for, providers that wait for it.
    std::map<std::size_t, tiered_interval> successors_to_wait_for;
    std::set<std::size_t> async_providers;
    map set_data_inputs;  // what set_data gave for the next step, eid -> attr -> source
    struct pulled {
        std::size_t source;
        std::int64_t shift;
        std::string src_eid, src_attr, dest_eid, dest_attr;
    };
    std::vector<pulled> pulled_inputs;
    struct pushed {
        std::size_t dest;
        std::int64_t shift;
        std::string dest_eid, dest_attr;
    };
    std::map<std::pair<std::string, std::string>, std::vector<pushed>> output_to_push;
    std::map<std::pair<std::string, std::string>,
             std::vector<std::pair<std::size_t, tiered_interval>>>
        triggers;
    std::map<std::string, std::set<std::string>> output_request;  // eid -> attrs
    value get_data_request;  // the same as get_data's argument, made once before the run
    map persistent_inputs;
    std::map<std::int64_t, value> outputs;  // output cache by integer output time
    struct observation {
        std::vector<std::string> eids;
        std::vector<std::string> attrs;
        world::observer sink;
    };
    std::vector<observation> observers;
    // Who reads the output cache (consumer, time shift), to drop what none can read any more.
    std::vector<std::pair<std::size_t, std::int64_t>> readers;

    // The run.
    std::set<tiered_time> next_steps;
    bool initial_event_set = false;
    std::vector<std::pair<std::size_t, minimal_delays>> triggering_ancestors;
    tiered_time progress;
    struct buffered {
        std::int64_t time;
        std::size_t source_index;  // with `order`: a buffer's order that does not depend on
        std::uint64_t order;       // which of two concurrent steps ended first
        std::string source, eid, attr;
        value v;
    };
    std::vector<buffered> timed_input_buffer;
    std::vector<tiered_time> steps_done;   // in order, for the graph's edges (when kept)
    std::optional<tiered_time> in_flight;  // a step sent and not yet answered
    std::optional<tiered_time> last_step;  // the latest step answered
    std::size_t in_flight_node = 0;        // its record in the graph (when kept)
    std::uint64_t steps = 0;
    std::uint64_t last_push = 0;  // the order of this simulator's pushes, for the buffer

    std::size_t depth() const { return groups.size() + 1; }
    std::string full_id(const std::string& eid) const { return sid + "." + eid; }
};

}  // namespace sim::mosaik

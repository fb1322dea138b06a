#include <sim/mosaik/world.hpp>

#include <algorithm>
#include <stdexcept>

#include <sim/core/error.hpp>

#include <fmt/format.h>

#include "world_state.hpp"

namespace sim::mosaik {

namespace {

const std::set<std::string>& api_names() {
    static const std::set<std::string> names{"init",     "create",   "setup_done", "step",
                                             "get_data", "finalize", "stop"};
    return names;
}

sim_type type_of(const value& meta, const std::string& sid) {
    const value* t = meta.is_map() ? meta.as_map().find(value("type")) : nullptr;
    if (t != nullptr && t->is_string()) {
        if (t->as_string() == "time-based") return sim_type::time_based;
        if (t->as_string() == "event-based") return sim_type::event_based;
        if (t->as_string() == "hybrid") return sim_type::hybrid;
    }
    throw std::invalid_argument(fmt::format(
        "simulator {}: its meta needs a type of time-based, event-based or hybrid", sid));
}

}  // namespace

value coupled_simulator::call_extra(const std::string& name, array, map) {
    throw std::invalid_argument("this simulator has no extra method " + name);
}

std::string step_record::id() const {
    return sid + "~" + time.to_string();
}

value execution_graph::to_value() const {
    array ns;
    for (const auto& n : nodes) {
        array tiers;
        for (auto t : n.time.tiers())
            tiers.push_back(value(t));
        ns.push_back(value(map{{value("sid"), value(n.sid)},
                               {value("time"), value(std::move(tiers))},
                               {value("inputs"), n.inputs},
                               {value("max_advance"), value(n.max_advance)},
                               {value("next_step"), n.next_step},
                               {value("seq"), value(static_cast<std::int64_t>(n.seq))}}));
    }
    array es;
    for (const auto& [from, to] : edges)
        es.push_back(value(array{value(from), value(to)}));
    return value(map{{value("format"), value("mosaik-execution-graph")},
                     {value("version"), value(1)},
                     {value("nodes"), value(std::move(ns))},
                     {value("edges"), value(std::move(es))}});
}

world::world(world_options options) : options_(options) {}
world::~world() = default;

world::sim_state& world::find(const std::string& sid) {
    for (auto& s : sims_) {
        if (s->sid == sid) return *s;
    }
    throw std::invalid_argument("no simulator \"" + sid + "\"");
}

std::pair<world::sim_state*, std::string> world::entity(const std::string& full_id) {
    const auto dot = full_id.find('.');
    if (dot == std::string::npos)
        throw std::invalid_argument("\"" + full_id + "\" is not a full entity id (SID.EID)");
    sim_state& s = find(full_id.substr(0, dot));
    std::string eid = full_id.substr(dot + 1);
    if (!s.entity_model.contains(eid))
        throw std::invalid_argument("simulator " + s.sid + " has no entity \"" + eid + "\"");
    return {&s, eid};
}

void world::start(const std::string& sid, std::unique_ptr<coupled_simulator> simulator,
                  const map& params, std::vector<std::string> groups) {
    for (const auto& s : sims_) {
        if (s->sid == sid) throw std::invalid_argument("two simulators are named \"" + sid + "\"");
    }
    auto s = std::make_unique<sim_state>();
    s->sid = sid;
    s->index = sims_.size();
    s->groups = std::move(groups);
    value meta = simulator->init(sid, options_.time_resolution, params);
    s->sim = std::move(simulator);
    s->type = type_of(meta, sid);
    const value* models = meta.as_map().find(value("models"));
    if (models == nullptr || !models->is_map())
        throw std::invalid_argument("simulator " + sid + ": its meta has no models");
    for (const auto& [name, description] : models->as_map()) {
        if (api_names().contains(name.as_string())) {
            throw std::invalid_argument(
                fmt::format("simulator {}: a model may not be named \"{}\", a name of the API", sid,
                            name.as_string()));
        }
        try {
            s->models.emplace(
                name.as_string(),
                classify_attributes(model_description::from_value(description), s->type));
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(
                fmt::format("simulator {}, model {}: {}", sid, name.as_string(), e.what()));
        }
    }
    if (const value* extra = meta.as_map().find(value("extra_methods"));
        extra != nullptr && extra->is_array()) {
        for (const auto& m : extra->as_array()) {
            const std::string& name = m.as_string();
            if (api_names().contains(name) || s->models.contains(name))
                throw std::invalid_argument(fmt::format(
                    "simulator {}: its extra method \"{}\" clashes with {}", sid, name,
                    api_names().contains(name) ? "a call of the API" : "a model's name"));
            s->extra_methods.insert(name);
        }
    }
    if (s->type != sim_type::event_based)
        s->next_steps.insert(tiered_time::from_world_time(0, s->depth()));
    s->sim->on_request([this, &state = *s](const std::string& name, const array& args) {
        return answer(state, name, args);
    });
    sims_.push_back(std::move(s));
}

std::vector<std::string> world::create(const std::string& sid, std::int64_t num,
                                       const std::string& model, const map& params) {
    sim_state& s = find(sid);
    if (!s.models.contains(model))
        throw std::invalid_argument("simulator " + sid + " has no model \"" + model + "\"");
    value made = s.sim->create(num, model, params);
    if (!made.is_array() || static_cast<std::int64_t>(made.as_array().size()) != num) {
        throw std::invalid_argument(fmt::format(
            "simulator {}: create({}, {}) did not make {} entities", sid, num, model, num));
    }
    std::vector<std::string> ids;
    for (const auto& e : made.as_array()) {
        const std::string eid = e["eid"].as_string();
        const std::string type = e["type"].as_string();
        if (type != model || s.entity_model.contains(eid)) {
            throw std::invalid_argument(
                fmt::format("simulator {}: create made \"{}\" of model {} (wanted a new {})", sid,
                            eid, type, model));
        }
        s.entity_model.emplace(eid, type);
        ids.push_back(s.full_id(eid));
        if (const value* rel = e.as_map().find(value("rel")); rel != nullptr && rel->is_array()) {
            for (const auto& other : rel->as_array())
                entity_edges_.emplace_back(s.full_id(eid), s.full_id(other.as_string()));
        }
    }
    return ids;
}

void world::connect(const std::string& src, const std::string& dest,
                    const std::vector<std::pair<std::string, std::string>>& attrs,
                    const connect_options& o) {
    auto [from, src_eid] = entity(src);
    auto [to, dest_eid] = entity(dest);
    const attribute_classes& out = from->models.at(from->entity_model.at(src_eid));
    const attribute_classes& in = to->models.at(to->entity_model.at(dest_eid));
    const tiered_interval delay =
        connect_interval(from->groups, to->groups, o.time_shifted, o.weak);
    entity_edges_.emplace_back(src, dest);
    for (const auto& [src_attr, dest_attr] : attrs) {
        if (!out.outputs().contains(src_attr))
            throw std::invalid_argument(src + " has no output \"" + src_attr + "\"");
        if (!in.inputs().contains(dest_attr))
            throw std::invalid_argument(dest + " has no input \"" + dest_attr + "\"");
        const value* initial = o.initial_data.find(value(src_attr));
        const bool dest_triggers = in.trigger_inputs.contains(dest_attr);
        if ((o.weak || o.time_shifted > 0) && !dest_triggers && initial == nullptr) {
            throw std::invalid_argument(fmt::format(
                "{}.{} -> {}.{}: a weak or time-shifted connection into a non-trigger input needs "
                "initial_data for {}",
                src, src_attr, dest, dest_attr, src_attr));
        }
        to->input_delays[from->index].offer(delay, {from->index, to->index});
        from->successors.insert_or_assign(to->index,
                                          connect_interval(from->groups, to->groups, 0, false));
        from->output_request[src_eid].insert(src_attr);
        if (out.persistent_outputs.contains(src_attr)) {
            to->pulled_inputs.push_back(
                {from->index, o.time_shifted, src_eid, src_attr, dest_eid, dest_attr});
            from->readers.emplace_back(to->index, o.time_shifted);
            if (initial != nullptr) {
                value& cached = from->outputs[-o.time_shifted];
                if (!cached.is_map()) cached = value(map{});
                map& data = cached.as_map();
                slot_of(data, src_eid, src_attr) = *initial;
            }
        } else {
            from->output_to_push[{src_eid, src_attr}].push_back(
                {to->index, o.time_shifted, dest_eid, dest_attr});
            if (initial != nullptr)
                slot_of(to->persistent_inputs, dest_eid, dest_attr)
                    .as_map()
                    .insert_or_assign(value(from->full_id(src_eid)), *initial);
        }
        if (dest_triggers) from->triggers[{src_eid, src_attr}].emplace_back(to->index, delay);
    }
    if (o.async_requests) {
        // The source waits for the destination as for a lazy consumer, whatever lazy_stepping
        // says, and the destination waits for the source with no delay at all.
        const tiered_interval adapt = connect_interval(from->groups, to->groups, 0, false);
        from->successors.insert_or_assign(to->index, adapt);
        from->successors_to_wait_for.insert_or_assign(to->index, adapt);
        to->input_delays[from->index].offer(adapt, {from->index, to->index});
        to->async_providers.insert(from->index);
    }
}

// Requests simulators make during their steps (mosaik-api.md §4).
value world::answer(sim_state& caller, const std::string& name, const array& args) {
    const value none;
    const value& first = args.empty() ? none : args[0];
    if (name == "get_data") return async_get_data(caller, first);
    if (name == "set_data") return async_set_data(caller, first);
    if (name == "set_event") {
        if (!first.is_integer()) throw fault("TypeError", "set_event(time) takes an integer time");
        return set_event(caller, first.as_int64());
    }
    if (name == "get_progress") {
        double sum = 0;
        for (const auto& s : sims_)
            sum += static_cast<double>(std::min(s->progress.time(), options_.until));
        return value(options_.until > 0 && !sims_.empty()
                         ? sum / static_cast<double>(sims_.size()) * 100.0 /
                               static_cast<double>(options_.until)
                         : 100.0);
    }
    if (name == "get_related_entities") {
        if (first.is_string()) return related(first.as_string());
        if (first.is_array()) {
            map out;
            for (const auto& id : first.as_array())
                out.insert_or_assign(id, related(id.as_string()));
            return value(std::move(out));
        }
        map nodes;
        for (const auto& s : sims_) {
            for (const auto& [eid, model] : s->entity_model)
                nodes.insert_or_assign(
                    value(s->full_id(eid)),
                    value(map{{value("type"), value(model)}, {value("sid"), value(s->sid)}}));
        }
        array edges;
        for (const auto& [a, b] : entity_edges_)
            edges.push_back(value(array{value(a), value(b), value(map{})}));
        return value(map{{value("nodes"), value(std::move(nodes))},
                         {value("edges"), value(std::move(edges))}});
    }
    throw fault("NotImplementedError", name + " is not a request of mosaik's API");
}

// An entity a simulator's request names: an unknown one is the simulator's mistake, told to it.
std::pair<world::sim_state*, std::string> world::requested_entity(const std::string& full_id) {
    try {
        return entity(full_id);
    } catch (const std::invalid_argument& e) {
        throw fault("ScenarioError", e.what());
    }
}

void world::check_async(const sim_state& source, const sim_state& caller) {
    if (!source.successors.contains(caller.index))
        throw fault("ScenarioError",
                    fmt::format("No connection from {} to {}: connect entities of both "
                                "simulators with async_requests: true",
                                source.sid, caller.sid));
    if (!source.successors_to_wait_for.contains(caller.index))
        throw fault("ScenarioError",
                    fmt::format("Async. requests are not enabled for the connection from {} to "
                                "{}: add async_requests: true to it",
                                source.sid, caller.sid));
}

// Values of other simulators' entities, `{full_id: [attr, ...]}`: from the output cache as of
// the caller's previous step where it holds them (mosaik's rule), else asked of the source.
value world::async_get_data(sim_state& caller, const value& wanted) {
    if (!caller.in_flight) throw fault("AssertionError", "get_data must happen in step");
    if (!wanted.is_map()) throw fault("TypeError", "get_data takes {full_id: [attribute, ...]}");
    map data;
    std::map<std::size_t, std::map<std::string, array>> missing;  // source -> eid -> attrs
    for (const auto& [id, attrs] : wanted.as_map()) {
        if (!id.is_string() || !attrs.is_array())
            throw fault("TypeError", "get_data takes {full_id: [attribute, ...]}");
        auto [source, eid] = requested_entity(id.as_string());
        check_async(*source, caller);
        const value* slice = nullptr;
        if (caller.last_step) {
            auto entry = source->outputs.upper_bound(caller.last_step->time());
            if (entry != source->outputs.begin()) slice = &std::prev(entry)->second;
        }
        map values;
        for (const auto& a : attrs.as_array()) {
            const value* v = slice != nullptr ? lookup_of(*slice, eid, a.as_string()) : nullptr;
            if (v != nullptr) {
                values.insert_or_assign(a, *v);
            } else {
                missing[source->index][eid].push_back(a);
            }
        }
        data.insert_or_assign(id, value(std::move(values)));
    }
    for (auto& [index, wanted_of] : missing) {
        sim_state& source = *sims_[index];
        map request;
        for (auto& [eid, attrs] : wanted_of)
            request.insert_or_assign(value(eid), value(std::move(attrs)));
        const value got = source.sim->get_data(value(std::move(request)));
        if (!got.is_map())
            throw fault("SimulationError",
                        "simulator " + source.sid + ": get_data answered no mapping");
        for (const auto& [eid, values] : got.as_map()) {
            if (!eid.is_string() || !values.is_map()) continue;  // "time", as in a step's outputs
            const value key(source.full_id(eid.as_string()));
            value* entry = data.find(key);
            if (entry == nullptr) {
                data.insert_or_assign(key, values);
                continue;
            }
            for (const auto& [attr, v] : values.as_map())
                entry->as_map().insert_or_assign(attr, v);
        }
    }
    return value(std::move(data));
}

// `{src_full_id: {dest_full_id: {attr: value}}}` into the destinations' next inputs.
value world::async_set_data(sim_state& caller, const value& data) {
    if (!data.is_map())
        throw fault("TypeError", "set_data takes {source: {destination: {attribute: value}}}");
    for (const auto& [src, dests] : data.as_map()) {
        if (!src.is_string() || !dests.is_map())
            throw fault("TypeError", "set_data takes {source: {destination: {attribute: value}}}");
        for (const auto& [dest, attrs] : dests.as_map()) {
            auto [target, eid] = requested_entity(dest.as_string());
            check_async(*target, caller);
            if (!attrs.is_map())
                throw fault("TypeError",
                            "set_data takes {source: {destination: {attribute: value}}}");
            for (const auto& [attr, v] : attrs.as_map())
                slot_of(target->set_data_inputs, eid, attr.as_string())
                    .as_map()
                    .insert_or_assign(src, v);
        }
    }
    return value();
}

value world::related(const std::string& full_id) const {
    map out;
    for (const auto& [a, b] : entity_edges_) {
        const std::string* other = a == full_id ? &b : b == full_id ? &a : nullptr;
        if (other == nullptr) continue;
        const auto dot = other->find('.');
        for (const auto& s : sims_) {
            if (s->sid != other->substr(0, dot)) continue;
            auto model = s->entity_model.find(other->substr(dot + 1));
            out.insert_or_assign(
                value(*other),
                value(map{{value("type"),
                           value(model != s->entity_model.end() ? model->second : std::string())},
                          {value("sid"), value(s->sid)}}));
        }
    }
    return value(std::move(out));
}

void world::require_output(const sim_state& s, const std::string& eid, const std::string& attr) {
    const std::string& model = s.entity_model.at(eid);
    if (!s.models.at(model).outputs().contains(attr))
        throw std::invalid_argument(
            fmt::format("{} (model {}) has no output \"{}\"", s.full_id(eid), model, attr));
}

void world::observe(const std::vector<std::string>& full_ids, const std::vector<std::string>& attrs,
                    observer sink) {
    if (full_ids.empty() || attrs.empty())
        throw std::invalid_argument("an observation needs entities and attributes");
    sim_state::observation o{{}, attrs, std::move(sink)};
    sim_state* owner = nullptr;
    for (const auto& id : full_ids) {
        auto [s, eid] = entity(id);
        if (owner != nullptr && owner != s) {
            throw std::invalid_argument(fmt::format(
                "{} and {} belong to different simulators (observe one simulator's entities)",
                full_ids.front(), id));
        }
        owner = s;
        for (const auto& a : attrs) {
            require_output(*s, eid, a);
            s->output_request[eid].insert(a);
        }
        o.eids.push_back(eid);
    }
    owner->observers.push_back(std::move(o));
}

value world::get_data(const std::vector<std::string>& full_ids,
                      const std::vector<std::string>& attrs) {
    std::map<std::size_t, map> requests;  // simulator -> its get_data request
    for (const auto& id : full_ids) {
        auto [s, eid] = entity(id);
        array wanted;
        for (const auto& a : attrs) {
            require_output(*s, eid, a);
            wanted.push_back(value(a));
        }
        requests[s->index].insert_or_assign(value(eid), value(std::move(wanted)));
    }
    map out;
    for (auto& [index, request] : requests) {
        sim_state& s = *sims_[index];
        const value got = s.sim->get_data(value(std::move(request)));
        if (!got.is_map())
            throw std::runtime_error("simulator " + s.sid + ": get_data answered no mapping");
        for (const auto& [eid, values] : got.as_map()) {
            if (eid.is_string() && eid.as_string() != "time")
                out.insert_or_assign(value(s.full_id(eid.as_string())), values);
        }
    }
    return value(std::move(out));
}

value world::call_extra(const std::string& sid, const std::string& method, array args, map kwargs) {
    sim_state& s = find(sid);
    if (!s.extra_methods.contains(method)) {
        std::vector<std::string> names(s.extra_methods.begin(), s.extra_methods.end());
        throw std::invalid_argument(
            fmt::format("simulator {} has no extra method \"{}\" ({})", sid, method,
                        names.empty() ? "it has none"
                                      : "it has: " + fmt::format("{}", fmt::join(names, ", "))));
    }
    return s.sim->call_extra(method, std::move(args), std::move(kwargs));
}

std::vector<std::pair<std::string, std::uint64_t>> world::steps_by_simulator() const {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    for (const auto& s : sims_)
        out.emplace_back(s->sid, s->steps);
    return out;
}

void world::set_initial_event(const std::string& sid, std::int64_t time) {
    sim_state& s = find(sid);
    s.next_steps = {tiered_time::from_world_time(time, s.depth())};
}

}  // namespace sim::mosaik

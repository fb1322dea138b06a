#include <sim/mosaik/attribute_classes.hpp>

#include <algorithm>
#include <iterator>
#include <stdexcept>

#include <fmt/format.h>

namespace sim::mosaik {

namespace {

std::set<std::string> set_union(const std::set<std::string>& a, const std::set<std::string>& b) {
    std::set<std::string> out;
    std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
    return out;
}

std::set<std::string> set_intersection(const std::set<std::string>& a,
                                       const std::set<std::string>& b) {
    std::set<std::string> out;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
    return out;
}

std::set<std::string> set_difference(const std::set<std::string>& a,
                                     const std::set<std::string>& b) {
    std::set<std::string> out;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
    return out;
}

attr_set make(std::set<std::string> names, bool complement) {
    std::vector<std::string> v(names.begin(), names.end());
    return complement ? attr_set::all_but(std::move(v)) : attr_set::of(std::move(v));
}

std::optional<attr_set> wrap(const std::optional<std::vector<std::string>>& names) {
    if (!names) return std::nullopt;
    return attr_set::of(*names);
}

// `whole` must be the disjoint union of the two parts; one of the three may be missing and is
// inferred. Returns the two parts.
std::pair<attr_set, attr_set> split(std::optional<attr_set> whole, std::optional<attr_set> a,
                                    std::optional<attr_set> b, const char* whole_name,
                                    const char* a_name, const char* b_name) {
    const auto missing = [&] {
        return std::invalid_argument(
            fmt::format("at least two of {}, {} and {} must be given", whole_name, a_name, b_name));
    };
    if (!whole) {
        if (!a || !b) throw missing();
        whole = *a | *b;
    }
    if (!a) {
        if (!b) throw missing();
        a = *whole - *b;
    }
    if (!b) b = *whole - *a;
    if (!(*a & *b).empty()) {
        throw std::invalid_argument(fmt::format("{} ({}) and {} ({}) are not disjoint", a_name,
                                                a->to_string(), b_name, b->to_string()));
    }
    if (!(*whole == (*a | *b))) {
        throw std::invalid_argument(fmt::format(
            "{} ({}) and {} ({}) must be subsets of {} ({}) and, both given, make up all of it",
            a_name, a->to_string(), b_name, b->to_string(), whole_name, whole->to_string()));
    }
    return {*a, *b};
}

[[noreturn]] void one_kind_only(const char* type, const char* refused, const char* direction,
                                const char* allowed) {
    throw std::invalid_argument(fmt::format(
        "{} simulators may not have {} attrs (a hybrid simulator may have both kinds of {}), and "
        "with the key {} they must list all their attrs there",
        type, refused, direction, allowed));
}

std::vector<std::string> strings_at(const value& v, const char* key) {
    std::vector<std::string> out;
    if (!v.is_array())
        throw std::invalid_argument(fmt::format("{}: expected a list of names", key));
    for (const auto& x : v.as_array()) {
        if (!x.is_string())
            throw std::invalid_argument(fmt::format("{}: expected a list of names", key));
        out.push_back(x.as_string());
    }
    return out;
}

}  // namespace

attr_set attr_set::of(std::vector<std::string> names) {
    attr_set s;
    s.names_ = std::set<std::string>(names.begin(), names.end());
    return s;
}

attr_set attr_set::all_but(std::vector<std::string> names) {
    attr_set s = of(std::move(names));
    s.complement_ = true;
    return s;
}

bool attr_set::contains(const std::string& name) const {
    return names_.contains(name) != complement_;
}

attr_set operator|(const attr_set& a, const attr_set& b) {
    if (a.finite() && b.finite()) return make(set_union(a.names_, b.names_), false);
    if (a.finite()) return make(set_difference(b.names_, a.names_), true);
    if (b.finite()) return make(set_difference(a.names_, b.names_), true);
    return make(set_intersection(a.names_, b.names_), true);
}

attr_set operator&(const attr_set& a, const attr_set& b) {
    if (a.finite() && b.finite()) return make(set_intersection(a.names_, b.names_), false);
    if (a.finite()) return make(set_difference(a.names_, b.names_), false);
    if (b.finite()) return make(set_difference(b.names_, a.names_), false);
    return make(set_union(a.names_, b.names_), true);
}

attr_set operator-(const attr_set& a, const attr_set& b) {
    if (a.finite() && b.finite()) return make(set_difference(a.names_, b.names_), false);
    if (a.finite()) return make(set_intersection(a.names_, b.names_), false);
    if (b.finite()) return make(set_union(a.names_, b.names_), true);
    return make(set_difference(b.names_, a.names_), false);
}

std::string attr_set::to_string() const {
    std::string listed = fmt::format("{{{}}}", fmt::join(names_, ", "));
    return complement_ ? "everything but " + listed : listed;
}

model_description model_description::from_value(const value& v) {
    if (!v.is_map()) throw std::invalid_argument("a model description is a mapping");
    model_description m;
    const map& keys = v.as_map();
    if (const value* x = keys.find(value("public"))) {
        if (!x->is_bool()) throw std::invalid_argument("public: expected true or false");
        m.is_public = x->as_bool();
    }
    if (const value* x = keys.find(value("any_inputs"))) {
        if (!x->is_bool()) throw std::invalid_argument("any_inputs: expected true or false");
        m.any_inputs = x->as_bool();
    }
    if (const value* x = keys.find(value("params"))) m.params = strings_at(*x, "params");
    const auto list = [&](const char* key, std::optional<std::vector<std::string>>& out) {
        if (const value* x = keys.find(value(key))) out = strings_at(*x, key);
    };
    list("attrs", m.attrs);
    list("trigger", m.trigger);
    list("non-trigger", m.non_trigger);
    list("persistent", m.persistent);
    list("non-persistent", m.non_persistent);
    return m;
}

model_description model_description::from_model(const model& m) {
    model_description d;
    d.is_public = m.is_public;
    d.params = m.params;
    d.any_inputs = m.any_inputs;
    d.attrs = m.attrs;
    if (!m.trigger.empty()) d.trigger = m.trigger;
    if (!m.non_persistent.empty()) d.non_persistent = m.non_persistent;
    return d;
}

attribute_classes classify_attributes(const model_description& m, sim_type type) {
    const attr_set none;
    // Inputs: every name with any_inputs, else the listed attrs.
    const std::optional<attr_set> inputs = m.any_inputs ? attr_set::all_but() : wrap(m.attrs);
    std::optional<attr_set> default_non_trigger;
    std::optional<attr_set> default_trigger;
    switch (type) {
        case sim_type::time_based:
            default_trigger = none;
            break;
        case sim_type::event_based:
            default_non_trigger = none;
            break;
        case sim_type::hybrid:
            if (!m.trigger) default_non_trigger = inputs;
            break;
    }
    auto [non_trigger, trigger] =
        split(inputs, m.non_trigger ? wrap(m.non_trigger) : default_non_trigger,
              m.trigger ? wrap(m.trigger) : default_trigger, "attrs", "non-trigger", "trigger");
    if (type == sim_type::time_based && !trigger.empty())
        one_kind_only("time-based", "trigger", "inputs", "non-trigger");
    if (type == sim_type::event_based && !non_trigger.empty())
        one_kind_only("event-based", "non-trigger", "inputs", "trigger");

    const std::optional<attr_set> outputs = wrap(m.attrs);
    std::optional<attr_set> default_persistent;
    std::optional<attr_set> default_non_persistent;
    if (type == sim_type::event_based) {
        default_persistent = none;
    } else {
        default_non_persistent = none;
    }
    auto [persistent, non_persistent] =
        split(outputs, m.persistent ? wrap(m.persistent) : default_persistent,
              m.non_persistent ? wrap(m.non_persistent) : default_non_persistent, "attrs",
              "persistent", "non-persistent");
    if (type == sim_type::time_based && !non_persistent.empty())
        one_kind_only("time-based", "non-persistent", "outputs", "persistent");
    if (type == sim_type::event_based && !persistent.empty())
        one_kind_only("event-based", "persistent", "outputs", "non-persistent");
    return {non_trigger, trigger, persistent, non_persistent};
}

}  // namespace sim::mosaik

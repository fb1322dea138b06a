#include <sim/codec/serializer_table.hpp>

#include <stdexcept>

namespace sim {

std::uint32_t serializer_table::add(serializer s) {
    if (!s.encode || !s.decode) {
        throw std::invalid_argument("serializer for " + s.name +
                                    " lacks an encode or decode function");
    }
    if (s.type) {
        for (const auto& e : entries_) {
            if (e.type == s.type) {
                throw std::invalid_argument("a serializer for " + s.name +
                                            " is already registered");
            }
        }
    } else if (fallback_) {
        throw std::invalid_argument("a fallback serializer (" + entries_[*fallback_].name +
                                    ") is already registered");
    }
    auto id = static_cast<std::uint32_t>(entries_.size());
    if (!s.type) fallback_ = id;
    entries_.push_back(std::move(s));
    return id;
}

std::optional<serializer_table::match> serializer_table::find(const object& o) const noexcept {
    // Tables hold a handful of entries; a scan beats hashing.
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        if (entries_[i].type == o.type()) return match{static_cast<std::uint32_t>(i), &entries_[i]};
    }
    if (fallback_) return match{*fallback_, &entries_[*fallback_]};
    return std::nullopt;
}

const serializer* serializer_table::at(std::uint64_t id) const noexcept {
    return id < entries_.size() ? &entries_[id] : nullptr;
}

value serializer_table::envelope(const object& o) const {
    auto m = find(o);
    if (!m) throw serialization_error("No serializer found for type \"" + o.type_name() + "\"");
    value data;
    try {
        data = m->entry->encode(o);
    } catch (const serialization_error& e) {
        throw serialization_error("Could not serialize object of type \"" + o.type_name() +
                                  "\": " + e.what());
    } catch (const std::exception& e) {
        throw serialization_error("Could not serialize object of type \"" + o.type_name() +
                                  "\": " + e.what());
    }
    array pair;
    pair.reserve(2);
    pair.emplace_back(m->id);
    pair.push_back(std::move(data));
    map env;
    env.insert_or_assign("__type__", std::move(pair));
    return value(std::move(env));
}

std::optional<value> serializer_table::open(const map& m) const {
    const value* t = m.find(std::string_view("__type__"));
    if (t == nullptr) return std::nullopt;
    const array* pair = t->get_if<array>();
    if (pair == nullptr || pair->size() != 2 || !(*pair)[0].is_integer()) {
        throw serialization_error(
            "malformed custom-type envelope: \"__type__\" must hold [id, data]");
    }
    const serializer* s = nullptr;
    if (const auto* id = (*pair)[0].get_if<std::int64_t>(); id != nullptr && *id >= 0) {
        s = at(static_cast<std::uint64_t>(*id));
    }
    if (s == nullptr) {
        throw serialization_error("unknown custom type id " + to_display_string((*pair)[0]) + " (" +
                                  std::to_string(entries_.size()) + " serializers registered)");
    }
    try {
        return s->decode((*pair)[1]);
    } catch (serialization_error& e) {
        e.prepend_place("[\"__type__\"][1]");
        throw serialization_error("cannot decode custom type " + s->name + ": " + e.what());
    } catch (const std::exception& e) {
        throw serialization_error("cannot decode custom type " + s->name + ": " + e.what());
    }
}

}  // namespace sim

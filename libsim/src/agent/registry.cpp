#include <sim/agent/registry.hpp>

#include <sim/core/error.hpp>

namespace sim {

agent& agent_registry::spawn(container& c, std::string_view type, array args, map kwargs) const {
    auto it = factories_.find(type);
    if (it == factories_.end()) {
        std::string known;
        for (const auto& [name, f] : factories_)
            known += (known.empty() ? "" : ", ") + name;
        throw lookup_error("no agent type \"" + std::string(type) +
                           "\" (known: " + (known.empty() ? "none" : known) + ")");
    }
    return it->second(c, args, kwargs);
}

bool agent_registry::contains(std::string_view type) const {
    return factories_.find(type) != factories_.end();
}

std::vector<std::string> agent_registry::types() const {
    std::vector<std::string> out;
    for (const auto& [name, f] : factories_)
        out.push_back(name);
    return out;
}

}  // namespace sim

#include <sim/mosaik/plugin.hpp>

#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace sim::mosaik {

void simulator_registry::add(std::string name, factory make) {
    if (factories_.contains(name))
        throw std::invalid_argument("simulator type \"" + name + "\" is registered twice");
    factories_.emplace(std::move(name), std::move(make));
}

std::unique_ptr<simulator> simulator_registry::make(const std::string& name) const {
    auto it = factories_.find(name);
    if (it == factories_.end())
        throw std::invalid_argument(fmt::format("no simulator type \"{}\" (there are: {})", name,
                                                fmt::join(names(), ", ")));
    return it->second();
}

std::vector<std::string> simulator_registry::names() const {
    std::vector<std::string> out;
    for (const auto& [name, f] : factories_)
        out.push_back(name);
    return out;
}

}  // namespace sim::mosaik

#include <sim/mosaik/container_simulator.hpp>

#include <cmath>
#include <utility>

#include <fmt/format.h>

#include <sim/core/error.hpp>

namespace sim::mosaik {

container_simulator::container_simulator(const agent_registry& types,
                                         std::map<std::string, model> models,
                                         container_options options, std::string address)
    : types_(&types),
      models_(std::move(models)),
      options_(std::move(options)),
      address_(std::move(address)) {}

container_simulator::~container_simulator() = default;

mosaik::meta container_simulator::meta() const {
    mosaik::meta m;
    m.type = sim_type::hybrid;
    m.models = models_;
    return m;
}

void container_simulator::init(const std::string& sid, double time_resolution, const map& params) {
    resolution_ = time_resolution;
    virtual_time clock;
    if (const auto* d = std::get_if<virtual_time>(&options_.clock)) clock = *d;
    if (const value* start = params.find(value("start_date"))) clock.start = start->as_string();
    clock.init_time = 0;
    options_.clock = clock;
    if (options_.name.empty()) options_.name = sid;
    if (address_.empty()) address_ = "local://mosaik-" + sid;
    container_ = std::make_unique<sim::container>(address_, options_);
}

sim::container& container_simulator::container() {
    if (!container_) throw std::logic_error("container_simulator: init has not been called");
    return *container_;
}

void container_simulator::adopt(const std::string& model, std::vector<std::string> ids) {
    adopted_[model] = {std::move(ids), 0};
}

std::vector<entity> container_simulator::create(int num, const std::string& model,
                                                const map& params) {
    std::vector<entity> made;
    if (auto it = adopted_.find(model); it != adopted_.end()) {
        adopted& a = it->second;
        if (!params.empty())
            throw failure("TypeError",
                          fmt::format("create: {} takes no params (its agents are made with the "
                                      "agents: section's)",
                                      model));
        if (num < 0 || a.ids.size() - a.handed_out < static_cast<std::size_t>(num))
            throw failure("ValueError",
                          fmt::format("create: {} of {} asked for, {} left (of {})", num, model,
                                      a.ids.size() - a.handed_out, a.ids.size()));
        for (int i = 0; i < num; ++i) {
            const std::string& id = a.ids[a.handed_out++];
            made.push_back({id,
                            model,
                            {},
                            {},
                            value(map{{value("address"), value(container().base_url() + id)}})});
        }
        return made;
    }
    for (int i = 0; i < num; ++i) {
        agent* a = nullptr;
        try {
            a = &types_->spawn(container(), model, {}, params);
        } catch (const sim::error& e) {
            throw failure("TypeError",
                          fmt::format("create: cannot make a {}: {}", model, e.what()));
        }
        made.push_back(
            {a->id(), model, {}, {}, value(map{{value("address"), value(a->address())}})});
    }
    return made;
}

std::optional<std::int64_t> container_simulator::step(std::int64_t time, const mosaik::inputs& in,
                                                      std::int64_t) {
    sim::container& c = container();
    // Held starts go on now, when every container has its agents (a no-op unless held).
    if (!std::exchange(stepped_, true)) c.release_starts();
    // Inputs first, in a fixed order (eid, attribute), each a call with its sources' values.
    for (const auto& [eid, attrs] : in) {
        auto it = proxies_.find(eid);
        if (it == proxies_.end()) it = proxies_.emplace(eid, c.connect(c.base_url() + eid)).first;
        for (const auto& [attr, sources] : attrs) {
            map by_source;
            for (const auto& [src, v] : sources)
                by_source.insert_or_assign(value(src), v);
            try {
                it->second.call(attr, value(std::move(by_source)));
            } catch (const remote_error& e) {
                throw failure(e.type(), fmt::format("step: input {} of agent {}: {}", attr, eid,
                                                    e.message()));
            }
        }
    }
    const double seconds = static_cast<double>(time) * resolution_;
    std::optional<double> next = c.step(std::max(seconds, c.clock().now()));
    if (!next) return std::nullopt;
    // The first mosaik time at or after the next event, and after this step.
    auto t = static_cast<std::int64_t>(std::ceil(*next / resolution_ - 1e-9));
    return std::max(t, time + 1);
}

value container_simulator::get_data(const mosaik::outputs& wanted) {
    map data;
    for (const auto& [eid, attrs] : wanted) {
        agent* a = container().find(eid);
        if (a == nullptr)
            throw failure("ValueError", fmt::format("get_data: agent {} was removed", eid));
        map values;
        for (const auto& attr : attrs) {
            try {
                values.insert_or_assign(value(attr), a->observe(attr));
            } catch (const lookup_error& e) {
                throw failure("ValueError", fmt::format("get_data: {}", e.what()));
            }
        }
        data.insert_or_assign(value(eid), value(std::move(values)));
    }
    return value(std::move(data));
}

std::uint64_t container_simulator::calls_served() const noexcept {
    return container_ ? container_->calls_served() : calls_served_;
}

void container_simulator::finalize() {
    calls_served_ = calls_served();
    proxies_.clear();
    container_.reset();
}

}  // namespace sim::mosaik

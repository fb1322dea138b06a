#include <sim/agent/agent.hpp>
#include <sim/agent/container.hpp>

#include <fmt/format.h>

#include <sim/codec/convert.hpp>
#include <sim/core/error.hpp>
#include <sim/core/log.hpp>
#include <sim/rpc/connection.hpp>

namespace sim {

namespace detail {

double agent_clock::now() const {
    return owner_->container_->clock().now();
}

utc_time agent_clock::utcnow() const {
    return owner_->container_->clock().utcnow();
}

bool agent_clock::is_virtual() const noexcept {
    return owner_->container_->clock().is_virtual();
}

void agent_clock::cancel_all() {
    owner_->scope_.cancel();
}

void agent_clock::sleep_until_in(clock_scope* scope, double t) {
    if (owner_->removed_) throw cancelled("agent " + owner_->address() + " was removed");
    try {
        owner_->container_->clock().sleep_until_in(scope != nullptr ? scope : &owner_->scope_, t);
    } catch (const cancelled&) {
        if (owner_->removed_) throw cancelled("agent " + owner_->address() + " was removed");
        throw;
    }
}

timer agent_clock::call_at_in(clock_scope* scope, double t, std::function<void()> f) {
    if (owner_->removed_) throw cancelled("agent " + owner_->address() + " was removed");
    agent* a = owner_;
    // A timer that fired just before the agent went must not touch it: `life` tells.
    return a->container_->clock().call_at_in(scope != nullptr ? scope : &a->scope_, t,
                                             [life = a->life(), a, f = std::move(f)] {
                                                 if (life.expired() || a->removed_) return;
                                                 agent::busy_guard guard(a);
                                                 try {
                                                     f();
                                                 } catch (const cancelled&) {
                                                 } catch (...) {
                                                     a->fiber_failed(std::current_exception());
                                                 }
                                             });
}

}  // namespace detail

agent::agent(sim::container& c) : container_(&c), clock_(*this) {
    // Registered once the members exist: the container links `router_` in at agents/<id>.
    id_ = c.register_agent(*this);
    rng_ = sim::rng(c.seed(), c.name() + "/" + id_);
}

agent::~agent() {
    container_->unregister_agent(*this);
}

std::string agent::address() const {
    return container_->base_url() + id_;
}

value agent::ref() {
    return rpc::ref(router_);
}

rpc::proxy agent::connect(std::string_view url) {
    return container_->connect(url);
}

std::string agent::type_name() const {
    std::string name = detail::demangle(typeid(*this).name());
    // Without template arguments and namespaces: "ns::callee<int>" -> "callee".
    if (auto lt = name.find('<'); lt != std::string::npos) name.erase(lt);
    if (auto colon = name.rfind("::"); colon != std::string::npos) name.erase(0, colon + 2);
    return name;
}

std::weak_ptr<void> agent::life() {
    if (!life_) life_ = std::make_shared<char>(0);
    return life_;
}

value agent::observe(std::string_view name) const {
    for (const auto& [n, get] : observables_) {
        if (n == name) return get();
    }
    throw lookup_error(
        fmt::format("agent {} ({}) has no observable \"{}\"", address(), type_name(), name));
}

std::vector<std::string> agent::observables() const {
    std::vector<std::string> names;
    for (const auto& o : observables_)
        names.push_back(o.first);
    return names;
}

void agent::count_call() noexcept {
    ++container_->calls_served_;
}

void agent::release() noexcept {
    if (--busy_ == 0 && removed_) container_->reap(*this);
}

void agent::fiber_failed(std::exception_ptr e) noexcept {
    try {
        std::rethrow_exception(e);
    } catch (const cancelled&) {
    } catch (const std::exception& ex) {
        log::get("agent")->error("{} ({}): a fiber ended with an exception: {}", address(),
                                 type_name(), ex.what());
    } catch (...) {
        log::get("agent")->error("{} ({}): a fiber ended with an exception of unknown type",
                                 address(), type_name());
    }
}

void agent::spawn_fiber(std::function<void()> body) {
    if (removed_) throw cancelled("agent " + address() + " was removed");
    ++busy_;  // now, not when the fiber starts: the agent must still be there then
    container_->start_fiber([this, body = std::move(body)] {
        busy_guard guard(this);
        --busy_;  // the guard counts from here on
        if (removed_) return;
        try {
            body();
        } catch (...) {
            fiber_failed(std::current_exception());
        }
    });
}

}  // namespace sim

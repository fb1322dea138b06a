#pragma once
/// Agent types by name, for agents made from outside: a manager's `spawn`, scenario files.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sim/agent/container.hpp>
#include <sim/rpc/router.hpp>

namespace sim {

/// Maps type names to constructors. `add<T, P...>("name", arg("a"), ...)` registers
/// `T(container&, P...)`: arguments arrive as values (positional or by keyword, with the
/// defaults the `arg` specs give) and convert to `P...` as an exposed function's do.
class agent_registry {
  public:
    template <class T, class... Params, class... Names>
    agent_registry& add(std::string type, Names&&... names);

    /// Makes an agent of `type` in `c`. Throws `sim::lookup_error` for an unknown type and
    /// `sim::type_error` for arguments that do not fit.
    agent& spawn(container& c, std::string_view type, array args = {}, map kwargs = {}) const;
    bool contains(std::string_view type) const;
    std::vector<std::string> types() const;

  private:
    using factory = std::function<agent&(container&, array&, map&)>;
    std::map<std::string, factory, std::less<>> factories_;
};

template <class T, class... Params, class... Names>
agent_registry& agent_registry::add(std::string type, Names&&... names) {
    static_assert(std::is_base_of_v<agent, T>,
                  "agent_registry::add registers agents: T derives from sim::agent");
    constexpr std::size_t n = sizeof...(Params);
    auto sig = std::make_shared<rpc::detail::signature>(
        type, n, std::vector<rpc::arg>{rpc::arg(std::forward<Names>(names))...});
    factories_[std::move(type)] = [sig](container& c, array& args, map& kwargs) -> agent& {
        agent* made = nullptr;
        auto make = [&](Params... p) {
            made = &c.spawn<T>(std::move(p)...);
            return true;
        };
        std::array<rpc::detail::bound_arg, n == 0 ? 1 : n> bound{};
        sig->bind(args, kwargs, std::span(bound.data(), n));
        rpc::detail::call_bound<std::tuple<Params...>>(*sig, std::span(bound.data(), n), make,
                                                       std::make_index_sequence<n>{});
        return *made;
    };
    return *this;
}

}  // namespace sim

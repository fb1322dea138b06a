#pragma once
/// Agents: objects with an address that expose functions to peers and may run fibers of their
/// own (aiomas' Agent, aiomas-protocol.md §5.2).

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <sim/agent/rng.hpp>
#include <sim/clock/clock.hpp>
#include <sim/rpc/proxy.hpp>
#include <sim/rpc/router.hpp>

namespace sim {

class container;
class agent;

using rpc::arg;
using rpc::kw;
using rpc::proxy;

namespace detail {

template <class M>
struct member_class;
template <class C, class R, class... A>
struct member_class<R (C::*)(A...)> {
    using type = C;
};
template <class C, class R, class... A>
struct member_class<R (C::*)(A...) const> {
    using type = C;
};
template <class C, class R, class... A>
struct member_class<R (C::*)(A...) noexcept> {
    using type = C;
};
template <class C, class R, class... A>
struct member_class<R (C::*)(A...) const noexcept> {
    using type = C;
};

/// An agent's view of its container's clock: the same time, but its sleeps and timers belong
/// to the agent, so that removing the agent cancels them (the sleeping fibers get
/// `sim::cancelled`) and a removed agent can no longer wait.
class agent_clock final : public sim::clock {
  public:
    explicit agent_clock(agent& owner) noexcept : owner_(&owner) {}
    double now() const override;
    utc_time utcnow() const override;
    void cancel_all() override;
    bool is_virtual() const noexcept override;
    void sleep_until_in(clock_scope* scope, double t) override;
    timer call_at_in(clock_scope* scope, double t, std::function<void()> f) override;

  private:
    agent* owner_;
};

}  // namespace detail

/// The base of every agent. An agent belongs to one container, which gives it the next id
/// ("0", "1", ...) and the address `<container base URL><id>`, and serves its router at
/// `agents/<id>`. Derive from it, expose member functions in the constructor, and create
/// agents with `container::spawn<T>(args...)`, which calls `T(container&, args...)`:
///
///     class callee : public sim::agent {
///     public:
///         explicit callee(sim::container& c) : agent(c) { expose("spam", &callee::spam,
///         sim::arg("times")); } std::string spam(int times) const;
///     };
///
/// Everything an agent does runs on its container's thread: no locks. Functions that peers
/// call run each in a fiber of their own and may block (call other agents, sleep).
class agent {
  public:
    explicit agent(sim::container& c);
    virtual ~agent();
    agent(const agent&) = delete;
    agent& operator=(const agent&) = delete;

    sim::container& container() const noexcept { return *container_; }
    /// "0", "1", ...: never reused within a container.
    const std::string& id() const noexcept { return id_; }
    /// `tcp://127.0.0.1:5555/3`: what peers pass to `container::connect`.
    std::string address() const;
    /// The container's clock, as this agent sees it (its sleeps end when the agent is removed).
    sim::clock& clock() noexcept { return clock_; }
    /// Exposed functions and sub-services (`agents/<id>/<name>`).
    rpc::router& router() noexcept { return router_; }
    /// This agent's random numbers, seeded from the container's seed and the agent's name
    /// (`<container name>/<id>`): the same on every run with the same seed.
    sim::rng& rng() noexcept { return rng_; }
    /// A reference to this agent, to pass as an argument or return as a result: it arrives as a
    /// proxy of the agent (aiomas-protocol.md §4.3).
    value ref();
    /// A proxy to the agent at `url` (see `container::connect`).
    rpc::proxy connect(std::string_view url);
    /// What `validate_aid` answers for this agent: by default the class name without
    /// namespaces (aiomas answers the Python class name).
    virtual std::string type_name() const;
    /// Whether the agent was removed from its container.
    bool removed() const noexcept { return removed_; }

    /// Exposes a member function of the derived class bound to this agent, or any callable,
    /// under `name` (see `rpc::router::expose` for `arg(...)` specs). While one runs, the agent
    /// is not destroyed, even if it is removed meanwhile.
    template <class F, class... Args>
    agent& expose(std::string name, F f, Args&&... params);

    /// Runs `f` (a callable, or a member function of the derived class) in a fiber owned by this
    /// agent: its `run()` loop or a periodic task. The fiber ends quietly with `sim::cancelled`
    /// when the agent is removed while it sleeps; an exception is logged with the agent's name.
    template <class F>
    void start(F f);

    /// Declares an observable: a named value of this agent that a scenario's `record:` samples
    /// (docs/scenarios.md). `get()` returns anything convertible to a `sim::value`.
    template <class F>
    void observable(std::string name, F get);
    /// The observable's value now; `sim::lookup_error` if the agent has none of that name.
    value observe(std::string_view name) const;
    /// The names of the agent's observables, in the order declared.
    std::vector<std::string> observables() const;

  protected:
    /// Keeps the agent from being destroyed while code of it runs outside `expose` and `start`
    /// (a raw handler on `router()`, say), even if it is removed meanwhile.
    struct busy_guard {
        explicit busy_guard(agent* a) noexcept : a_(a) { ++a_->busy_; }
        busy_guard(const busy_guard&) = delete;
        busy_guard& operator=(const busy_guard&) = delete;
        ~busy_guard() { a_->release(); }

      private:
        agent* a_;
    };

  private:
    friend class sim::container;
    friend class detail::agent_clock;

    void release() noexcept;
    void count_call() noexcept;
    void fiber_failed(std::exception_ptr e) noexcept;
    void spawn_fiber(std::function<void()> body);
    std::weak_ptr<void> life();

    sim::container* container_;
    std::string id_;
    rpc::router router_;
    detail::agent_clock clock_;
    clock_scope scope_;  // the agent's sleeps and timers, cancelled when it is removed
    sim::rng rng_;
    std::shared_ptr<void> life_;  // made on first need; timers that fire late check it
    std::vector<std::pair<std::string, std::function<value()>>> observables_;
    std::uint32_t busy_ = 0;
    bool removed_ = false;
    bool reaping_ = false;
};

// ---- implementation ---------------------------------------------------------------------------

template <class F, class... Args>
agent& agent::expose(std::string name, F f, Args&&... params) {
    std::vector<rpc::arg> names{rpc::arg(std::forward<Args>(params))...};
    std::string label = name;
    if constexpr (std::is_member_function_pointer_v<F>) {
        using C = typename detail::member_class<F>::type;
        static_assert(std::is_base_of_v<agent, C>,
                      "expose a member function of this agent's class");
        using params_t = typename rpc::detail::callable_traits<F>::params;
        auto* self = static_cast<C*>(this);
        auto invoke = [this, self, f](auto&&... a) -> decltype(auto) {
            busy_guard guard(this);
            count_call();
            return (self->*f)(std::forward<decltype(a)>(a)...);
        };
        router_.expose_raw(std::move(name),
                           rpc::detail::make_handler<params_t>(std::move(label), std::move(invoke),
                                                               std::move(names)));
    } else {
        using fn = std::remove_cvref_t<F>;
        using traits =
            rpc::detail::callable_traits<std::conditional_t<std::is_function_v<fn>, fn*, fn>>;
        auto invoke = [this, f = std::move(f)](auto&&... a) mutable -> decltype(auto) {
            busy_guard guard(this);
            count_call();
            return f(std::forward<decltype(a)>(a)...);
        };
        router_.expose_raw(std::move(name),
                           rpc::detail::make_handler<typename traits::params>(
                               std::move(label), std::move(invoke), std::move(names)));
    }
    return *this;
}

template <class F>
void agent::observable(std::string name, F get) {
    observables_.emplace_back(std::move(name),
                              [get = std::move(get)]() -> value { return to_value(get()); });
}

template <class F>
void agent::start(F f) {
    if constexpr (std::is_member_function_pointer_v<F>) {
        using C = typename detail::member_class<F>::type;
        static_assert(std::is_base_of_v<agent, C>, "start a member function of this agent's class");
        auto* self = static_cast<C*>(this);
        spawn_fiber([self, f] { (self->*f)(); });
    } else {
        spawn_fiber(std::function<void()>(std::move(f)));
    }
}

}  // namespace sim

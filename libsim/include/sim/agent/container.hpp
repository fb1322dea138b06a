#pragma once
/// Containers: the home of agents, their clock and their connections (aiomas' Container,
/// aiomas-protocol.md §5.1), with virtual-time stepping (docs/step-protocol.md).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <sim/agent/agent.hpp>
#include <sim/channel/channel.hpp>
#include <sim/clock/clock.hpp>
#include <sim/clock/virtual_clock.hpp>
#include <sim/rpc/connection.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/runtime/use_fiber.hpp>
#include <sim/runtime/wait_queue.hpp>

namespace sim {

/// Wall-clock time (aiomas' AsyncioClock): for deployment.
struct real_time {};

/// Virtual time (aiomas' ExternalClock): moves only by `step`, `set_time` or a coordinator.
struct virtual_time {
    /// The date at time `init_time`, ISO 8601 (`utcnow() = start + now()` seconds).
    std::string start = "1970-01-01T00:00:00+00:00";
    double init_time = 0;
};

struct container_options {
    /// The container's identity: part of each agent's random seed, and how coordinated
    /// containers name each other. Defaults to the bound base URL; give one explicitly when
    /// results must not depend on the transport or on ports chosen by the system.
    std::string name;
    std::variant<real_time, virtual_time> clock = real_time{};
    /// Codec (json by default, as aiomas), user serializers (registered after the date
    /// serializer, which containers register first), timeouts, TLS. The same for the server
    /// and for connections the container opens.
    channel_options channel;
    /// The scenario's seed, from which every agent's random numbers derive.
    std::uint64_t seed = 0;
    /// Stepped by a `sim::coordinator` together with other containers (docs/step-protocol.md):
    /// messages between containers are then held and delivered in a canonical order.
    bool coordinated = false;
    /// For a container that makes its own runtime (see `container`).
    runtime_options runtime;
};

/// Traffic between containers, as coordination counts it.
struct container_counts {
    std::uint64_t sent = 0;      ///< messages sent to coordinated peers
    std::uint64_t received = 0;  ///< messages received from them (held ones included)
    std::uint64_t held = 0;      ///< received and not yet delivered
};

/// Binds an address, owns the agents in it and every connection they use, and is the root
/// service of each of those connections: `agents/<id>/...` and `validate_aid`, as an aiomas
/// container, so Python aiomas containers and libsim containers call each other's agents. It
/// also serves `clock/...` (the step/advance protocol) and `container/hello`.
///
/// A container lives on one runtime thread; every member runs there. Made on a thread that
/// runs a `sim::runtime`, it uses that one; made anywhere else, it makes its own runtime and
/// attaches it to the calling thread, which then drives the container whenever it waits
/// (`run`, `run_until`, `step`, a call). Destroying the container removes every agent
/// (their sleeps end with `sim::cancelled`), closes its connections and waits for the agents'
/// fibers to end.
class container {
  public:
    /// `address`: `tcp://host:port` (port 0: any free port; the base URL names the real one),
    /// `ipc://[path]`, `local://name`; TLS through `options.channel.transport.tls`. Throws
    /// `sim::connection_error` when the address cannot be bound.
    explicit container(std::string_view address, container_options options = {});
    ~container();
    container(const container&) = delete;
    container& operator=(const container&) = delete;

    /// `tcp://127.0.0.1:5555/`: an agent's address is this plus its id.
    const std::string& base_url() const noexcept { return base_url_; }
    const sim::address& local_address() const noexcept { return address_; }
    const std::string& name() const noexcept { return name_; }
    sim::clock& clock() noexcept { return *clock_; }
    /// The virtual clock; throws `std::logic_error` for a real-time container.
    sim::virtual_clock& virtual_clock();
    sim::runtime& runtime() noexcept { return *rt_; }
    /// The root service: add services of your own beside `agents`, `clock` and `container`.
    rpc::router& router() noexcept { return root_; }
    const container_options& options() const noexcept { return options_; }

    /// Makes an agent `T(*this, args...)`, owned by the container, and returns it.
    template <class T, class... Args>
    T& spawn(Args&&... args);
    /// The agent with this id, or nullptr (also once removed).
    agent* find(std::string_view id) const noexcept;
    /// Removes an agent: its address answers "no such agent" from now on, its sleeps and timers
    /// end, and the container destroys it once none of its fibers and calls runs any more.
    /// False if there is no such agent.
    bool remove(std::string_view id);
    void remove(agent& a);
    /// Agents in the container now.
    std::size_t size() const noexcept { return live_agents_; }
    /// Calls `f(agent&)` for every agent, in order of id.
    template <class F>
    void for_each_agent(F&& f) const;

    /// While held, fibers that agents `start` wait, in order, until `release_starts()`: a
    /// scenario makes every agent of every container first, then lets them run.
    void hold_starts() noexcept { holding_starts_ = true; }
    void release_starts();

    /// A proxy to the agent at `url` (`tcp://host:port/<id>`, `ipc://[path]/<id>`,
    /// `local://name/<id>`). One connection per peer container is opened and reused (concurrent
    /// connects share one attempt); the agent is checked with `validate_aid`: a missing one is a
    /// `sim::lookup_error`. An agent of this container is reached without codec and socket,
    /// with the semantics of a remote call.
    rpc::proxy connect(std::string_view url, std::optional<deadline> until = std::nullopt);

    /// Virtual time: moves to `t` (>= now), wakes every agent due by `t` in (deadline,
    /// registration) order, runs until the container is quiet (no fiber ready, no connection
    /// being opened, no request sent by it unanswered) and returns the next pending deadline, or
    /// nothing. Not for a coordinated container (its coordinator steps it).
    std::optional<double> step(double t);
    /// Runs until the container is quiet (see `step`).
    void wait_quiet();

    /// Runs `f` in a fiber of the container and returns its result once it returns.
    template <class F>
    std::invoke_result_t<F&> run_until(F&& f);
    /// Serves until `stop()`, a manager's `stop`, or the runtime's stop (`runtime::stop()`,
    /// which a manager's `stop` asks for too, so that a process waiting in
    /// `sim::wait_for_stop` ends as well).
    void run();
    /// Ends `run()`; the agents go on serving until the container is destroyed. Thread-safe.
    void stop();
    bool stopped() const noexcept { return stop_requested_; }

    /// Messages between this container and its coordinated peers.
    container_counts counts() const;
    /// Calls that agents of this container served (from here or elsewhere), since it was made.
    std::uint64_t calls_served() const noexcept { return calls_served_; }

    /// For a coordinator (docs/step-protocol.md): `begin(t)` moves the virtual clock to `t`
    /// (>= now); `settle()` waits until the container is locally quiet and notes what is held;
    /// `deliver()` hands the messages held at the last `settle` to their receivers in canonical
    /// order and returns how many (messages that came later wait for the next round).
    void begin(double t);
    container_counts settle();
    std::size_t deliver();

    /// Implementation details shared with agents.
    std::uint64_t seed() const noexcept { return options_.seed; }

  private:
    friend class agent;
    friend class container_thread;
    friend class detail::agent_clock;
    struct link;
    struct peer_entry;
    struct slot {
        agent* a = nullptr;
        std::unique_ptr<agent> owned;
    };

    std::string register_agent(agent& a);
    void unregister_agent(agent& a) noexcept;
    void reap(agent& a) noexcept;
    void adopt(const std::string& id, std::unique_ptr<agent> owned);
    rpc::proxy connect_remote(const address& to, const std::string& base, const std::string& aid,
                              std::optional<deadline> until);
    link& add_link(rpc::connection conn, bool outgoing, std::string url);
    void drop_link(link* l) noexcept;
    void classify(link& l);
    void notify() noexcept;
    void start_fiber(std::function<void()> body);
    bool wait_event(std::chrono::steady_clock::time_point until);
    std::size_t pending_calls() const;
    void settle_locally();
    void setup_router();
    void shutdown() noexcept;

    container_options options_;
    std::unique_ptr<sim::runtime> own_rt_;
    sim::runtime* rt_;
    std::unique_ptr<sim::clock> clock_;
    sim::virtual_clock* vclock_ = nullptr;
    rpc::router root_;
    rpc::router agents_;
    rpc::router clock_router_;
    rpc::router container_router_;
    sim::address address_;
    std::string base_url_;
    std::string name_;
    std::optional<sim::server> server_;
    rpc::connection local_;  // the same-container shortcut

    std::vector<slot> slots_;  // by id
    std::size_t live_agents_ = 0;
    std::size_t removed_pending_ = 0;  // removed agents waiting for their fibers to end

    std::vector<std::unique_ptr<link>> links_;
    std::map<std::string, std::shared_ptr<peer_entry>, std::less<>> peers_;  // by base URL
    container_counts retired_;  // counts of closed links
    std::size_t connecting_ = 0;
    std::size_t settling_ = 0;     // fibers inside settle_locally, waited for by shutdown
    wait_queue events_;            // woken by channel activity and connects
    wait_queue stopped_;           // run(), until stop()
    std::shared_ptr<void> alive_;  // callbacks handed to connections check it
    std::uint64_t stop_hook_ = 0;  // the runtime's stop ends run()
    bool stop_requested_ = false;
    bool shutting_down_ = false;
    bool holding_starts_ = false;
    std::uint64_t calls_served_ = 0;
    std::vector<std::function<void()>> held_starts_;
};

/// A container on a thread of its own, for several containers in one process. The container is
/// made, used and destroyed on that thread; `invoke` runs code there.
class container_thread {
  public:
    container_thread(std::string address, container_options options = {});
    /// Shuts the container down on its thread and stops the thread. Waits at most
    /// `shutdown_timeout`: a container thread that does not answer by then (an agent that never
    /// yields) is logged and left running, so that the owner is not held up for good.
    ~container_thread();
    /// Runs `f(container&)` on the container's thread and returns its result.
    template <class F>
    auto invoke(F&& f) {
        return rt_->invoke([&]() -> decltype(auto) { return f(*container_); });
    }
    /// Runs `f(container&)` on the container's thread and returns a future of its result, for
    /// a wait with a bound. `f` is moved there and must own what it uses; the fiber keeps the
    /// container alive, so the caller may stop waiting and even destroy this object.
    template <class F>
    auto async(F&& f) {
        return rt_->async(
            [c = container_, f = std::forward<F>(f)]() mutable -> decltype(auto) { return f(*c); });
    }
    const std::string& base_url() const noexcept { return base_url_; }
    const std::string& name() const noexcept { return name_; }

    std::chrono::milliseconds shutdown_timeout{std::chrono::seconds(10)};

  private:
    // Owned, and kept to the end of the process only when the thread does not answer the
    // shutdown.
    std::unique_ptr<sim::runtime> rt_;
    // Shared with the fibers of `async`, which may outlive a wait that gave up; destroyed on
    // the container's thread by whichever of them lets go last.
    std::shared_ptr<container> container_;
    std::string base_url_;
    std::string name_;
};

// ---- implementation ---------------------------------------------------------------------------

template <class T, class... Args>
T& container::spawn(Args&&... args) {
    static_assert(std::is_base_of_v<agent, T>,
                  "container::spawn makes agents: T derives from sim::agent");
    auto made = std::make_unique<T>(*this, std::forward<Args>(args)...);
    T& a = *made;
    adopt(a.id(), std::move(made));
    return a;
}

template <class F>
void container::for_each_agent(F&& f) const {
    for (const slot& s : slots_) {
        if (s.a != nullptr && !s.a->removed()) f(*s.a);
    }
}

template <class F>
std::invoke_result_t<F&> container::run_until(F&& f) {
    return rt_->run_in_fiber(f);
}

}  // namespace sim

#pragma once
/// A mosaik world run by libsim: simulators started, entities created and connected as mosaik's
/// World API does it, then stepped with mosaik 3.3's semantics (mosaik-scheduler.md §2-§7) and
/// recorded as an execution graph (§9).
///
/// Simulators in other processes (whose calls suspend only the calling fiber: the master runs in
/// a fiber of a `sim::runtime`) step concurrently whenever the waits of §4 allow, with every step
/// in flight counted in its descendants' progress and `max_advance`, so the steps, edges and
/// inputs do not depend on the timing (only `seq`, the order calls were sent, and `max_advance`
/// within its safe range may). In-process simulators step one at a time, in this fiber.
/// Among simulators that may step, the earliest time (then the earliest started) goes first.
/// During their steps simulators may ask the master for get_progress, get_related_entities,
/// and over `async_requests` connections get_data and set_data; set_event in real time.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <sim/codec/value.hpp>
#include <sim/mosaik/attribute_classes.hpp>
#include <sim/mosaik/dataflow.hpp>
#include <sim/mosaik/tiered_time.hpp>

namespace sim::mosaik {

/// What a master calls on a simulator, in mosaik's terms and JSON values. A call's failure is an
/// exception (`sim::remote_error` for a simulator's failure reply).
class coupled_simulator {
  public:
    virtual ~coupled_simulator() = default;
    /// Returns the meta.
    virtual value init(const std::string& sid, double time_resolution, const map& params) = 0;
    /// Returns the list of entities made.
    virtual value create(std::int64_t num, const std::string& model, const map& params) = 0;
    virtual void setup_done() = 0;
    /// Returns the next step's time, or nil.
    virtual value step(std::int64_t time, const value& inputs, std::int64_t max_advance) = 0;
    virtual value get_data(const value& outputs) = 0;
    /// A step, then get_data of `outputs` (what the master does after each step of a
    /// simulator whose outputs it needs): the two answers. One after the other by default.
    virtual std::pair<value, value> step_and_get_data(std::int64_t time, const value& inputs,
                                                      std::int64_t max_advance,
                                                      const value& outputs) {
        value next = step(time, inputs, max_advance);
        return {std::move(next), get_data(outputs)};
    }
    virtual void stop() = 0;

    /// Answers a request the simulator makes during a step (its name and arguments); throws
    /// for a failure. Simulators that make none ignore it.
    using request_handler = std::function<value(const std::string& name, const array& args)>;
    virtual void on_request(request_handler) {}

    /// An extra method of the simulator's meta, with mosaik's arguments; returns its answer.
    virtual value call_extra(const std::string& name, array args, map kwargs);

    /// Whether a call suspends only the calling fiber (a simulator in another process), so
    /// that the master may have steps of several such simulators in flight at once.
    virtual bool suspends() const noexcept { return false; }
    /// Ends a call in flight (it throws), after a failure elsewhere.
    virtual void cancel() noexcept {}
};

/// `World.run`'s arguments and `World`'s options.
struct world_options {
    std::int64_t until = 0;  ///< exclusive, in steps
    double time_resolution = 1.0;
    bool lazy_stepping = true;
    std::int64_t max_loop_iterations = 100;
    /// Real time: the step at time t starts t * rt_factor * time_resolution wall seconds after
    /// the run began (not earlier); nothing: as fast as possible.
    std::optional<double> rt_factor;
    /// Real time: fail the run when a step starts a whole step period or more late.
    bool rt_strict = false;
    /// Set (from a signal handler, say) to end the run before its next step; the simulators
    /// are stopped as at a normal end.
    const std::atomic<bool>* stop = nullptr;
    /// Keep the execution graph (`run` returns it): one record per step, kept to the end.
    /// Without it a run's memory does not grow with its length.
    bool record_graph = true;
    /// Called after each step (the world time stepped to and the steps so far); keep it cheap.
    std::function<void(std::int64_t time, std::uint64_t steps)> on_step;
};

/// How late steps started in real time (all zero as fast as possible).
struct lateness {
    double max_seconds = 0;
    double mean_seconds = 0;
    std::uint64_t steps = 0;
};

/// `world.connect`'s keyword arguments.
struct connect_options {
    std::int64_t time_shifted = 0;
    bool weak = false;
    /// `{src_attr: value}`: what the destination sees before the source's first output.
    map initial_data;
    /// mosaik's `async_requests=True` (deprecated there since 3.1, kept for the scenarios that
    /// use it): during its steps the destination may `get_data` from the source and `set_data`
    /// into it, and the source steps at t only once the destination has reached t.
    bool async_requests = false;
};

/// One step call, as the execution graph records it.
struct step_record {
    std::string sid;
    tiered_time time;
    value inputs;
    std::int64_t max_advance = 0;
    value next_step;
    std::size_t seq = 0;

    /// `A~0`, `Loop~1:2`.
    std::string id() const;
};

/// The run's execution graph (mosaik-scheduler.md §9).
struct execution_graph {
    std::vector<step_record> nodes;
    std::vector<std::pair<std::string, std::string>> edges;

    /// The JSON form: `{"format": "mosaik-execution-graph", "version": 1, "nodes": [...],
    /// "edges": [...]}`.
    value to_value() const;
};

class world {
  public:
    explicit world(world_options options);
    ~world();
    world(const world&) = delete;
    world& operator=(const world&) = delete;

    /// `world.start`: initialises `simulator` as `sid` in the given nested groups (outermost
    /// first) and checks its meta. Throws `std::invalid_argument` saying what is wrong.
    void start(const std::string& sid, std::unique_ptr<coupled_simulator> simulator,
               const map& params = {}, std::vector<std::string> groups = {});
    /// `model.create(num, **params)`: returns the full ids (`sid.eid`) of the entities made.
    std::vector<std::string> create(const std::string& sid, std::int64_t num,
                                    const std::string& model, const map& params = {});
    /// `world.connect(src, dest, *attrs, ...)` for full entity ids and `[src, dest]` pairs.
    void connect(const std::string& src, const std::string& dest,
                 const std::vector<std::pair<std::string, std::string>>& attrs,
                 const connect_options& options = {});
    /// `world.set_initial_event(sid, time)`: replaces the simulator's scheduled steps.
    void set_initial_event(const std::string& sid, std::int64_t time = 0);

    /// What `observe` passes on after a step: the step's world time and, per entity in the
    /// order given, the values of the attributes asked for (nil where the simulator gave none).
    using observer =
        std::function<void(std::int64_t time, const std::vector<std::vector<value>>& rows)>;
    /// Records attributes of entities of one simulator (full ids): after each of its steps
    /// the master asks for them with the step's get_data and calls `sink`, in the order of that
    /// simulator's steps. It changes no step, input or edge of the run. Throws
    /// `std::invalid_argument` for an unknown entity, entities of several simulators, or an
    /// attribute that is not an output of an entity's model.
    void observe(const std::vector<std::string>& full_ids, const std::vector<std::string>& attrs,
                 observer sink);

    /// `World.get_data(entities, *attrs)` before the run: one get_data per simulator; returns
    /// `{full_id: {attr: value}}`. Throws `std::invalid_argument` for an unknown entity or an
    /// attribute that is not an output of its model.
    value get_data(const std::vector<std::string>& full_ids, const std::vector<std::string>& attrs);
    /// An extra method of a started simulator (`sim.method(*args, **kwargs)` in a mosaik
    /// script). Throws `std::invalid_argument` when its meta has no such method.
    value call_extra(const std::string& sid, const std::string& method, array args = {},
                     map kwargs = {});

    /// Checks the dataflow for cycles of no delay, calls setup_done, runs until `until` and
    /// stops every simulator. Throws `std::runtime_error` (a SimulationError) naming the
    /// simulator, its call and time when a run cannot go on; the simulators are stopped then
    /// too.
    execution_graph run();
    /// After `run`: how late steps started in real time.
    const mosaik::lateness& lateness() const noexcept { return lateness_; }
    /// After `run`: whether `world_options::stop` ended it early.
    bool interrupted() const noexcept { return interrupted_; }
    /// The steps each simulator took, in the order they were started.
    std::vector<std::pair<std::string, std::uint64_t>> steps_by_simulator() const;

  private:
    struct sim_state;
    struct run_state;
    sim_state& find(const std::string& sid);
    value answer(sim_state& caller, const std::string& name, const array& args);
    value async_get_data(sim_state& caller, const value& wanted);
    value async_set_data(sim_state& caller, const value& data);
    value set_event(sim_state& caller, std::int64_t time);
    std::pair<sim_state*, std::string> requested_entity(const std::string& full_id);
    static void check_async(const sim_state& source, const sim_state& caller);
    static void require_output(const sim_state& s, const std::string& eid, const std::string& attr);
    value related(const std::string& full_id) const;
    std::pair<sim_state*, std::string> entity(const std::string& full_id);

    world_options options_;
    std::vector<std::unique_ptr<sim_state>> sims_;
    std::vector<std::pair<std::string, std::string>> entity_edges_;  // full ids, undirected
    mosaik::lateness lateness_;
    bool interrupted_ = false;
    run_state* running_ = nullptr;  // while `run` runs: set_event wakes it
    bool ran_ = false;
};

}  // namespace sim::mosaik

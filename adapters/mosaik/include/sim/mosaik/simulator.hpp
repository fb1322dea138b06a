#pragma once
/// Simulators for mosaik 3.x written in C++ (../shared/docs/mosaik-api.md; docs/mosaik.md):
/// derive from `sim::mosaik::simulator`, declare its meta, implement the calls, and run it with
/// `sim::mosaik::main<T>(argc, argv)`. The library speaks mosaik's wire protocol (JSON frames of
/// `[type, id, content]`, as aiomas) and checks what mosaik sends against the meta.

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <sim/codec/value.hpp>
#include <sim/core/error.hpp>
#include <sim/rpc/router.hpp>

namespace sim {
/// A parameter's name (and default) for extra methods, as agents and routers name them.
using rpc::arg;
}  // namespace sim

namespace sim::mosaik {

/// How mosaik schedules the simulator (API 3.0).
enum class sim_type { time_based, event_based, hybrid };

/// One model: what `create` makes.
struct model {
    bool is_public = true;
    std::vector<std::string> params;          ///< keyword arguments of `create`
    std::vector<std::string> attrs;           ///< inputs and outputs
    bool any_inputs = false;                  ///< accepts inputs on attributes not in `attrs`
    std::vector<std::string> trigger;         ///< hybrid: inputs that trigger a step
    std::vector<std::string> non_persistent;  ///< hybrid: outputs that are events
};

/// What `init` answers: the simulator's description.
struct meta {
    std::string api_version = "3.0";
    sim_type type = sim_type::time_based;
    std::map<std::string, model> models;
    /// Filled from the extra methods the simulator registered.
    std::vector<std::string> extra_methods;

    value to_value() const;
};

/// An entity `create` made: its id (unique in the simulator), its model, related entities'
/// ids, child entities, and anything else mosaik should keep (`extra_info`).
struct entity {
    std::string eid;
    std::string type;
    std::vector<std::string> rel;
    std::vector<entity> children;
    value extra_info;

    value to_value() const;
};

/// `step`'s inputs: destination entity -> attribute -> source full id -> value.
using inputs = std::map<std::string, std::map<std::string, std::map<std::string, value>>>;
/// `get_data`'s request: entity -> attributes.
using outputs = std::map<std::string, std::vector<std::string>>;

/// A failure reply with a chosen type: `throw sim::mosaik::failure("ValueError", "...")`, with
/// an optional detail (mosaik shows it as the traceback). Other exceptions are reported with
/// their Python-like type names (`sim::exception_type_name`: ValueError for
/// std::invalid_argument, ...). (`sim::fault`, under the name mosaik code knows it by.)
using failure = sim::fault;

class dispatcher;

/// Calls back to mosaik during `step` (asynchronous requests, over the same connection; each
/// waits for mosaik's answer). Calling one outside `step` throws `std::logic_error`.
class remote {
  public:
    /// Overall progress in percent.
    double get_progress();
    /// The entity graph (`entities` nil), one entity's neighbours (a full id) or several's.
    value get_related_entities(const value& entities = {});
    /// `{full_id: [attr, ...]}` -> `{full_id: {attr: value}}`.
    value get_data(const value& wanted);
    /// `{src_full_id: {dest_full_id: {attr: value}}}`.
    void set_data(const value& data);
    /// Schedules a step of this simulator at `time`.
    void set_event(std::int64_t time);

  private:
    friend class dispatcher;
    value call(std::string_view name, array args);
    dispatcher* dispatcher_ = nullptr;
};

/// The base of a C++ mosaik simulator. mosaik calls, in this order: `init` once, `create` any
/// number of times, extra methods, `setup_done` once, then `step` and `get_data` alternately;
/// `stop` ends it (`finalize` runs, the connection closes, the process exits with 0).
class simulator {
  public:
    virtual ~simulator() = default;

    /// The description `init` answers (models, type). Called once, after `init`.
    virtual mosaik::meta meta() const = 0;
    /// `sid` is the id mosaik gave this simulator, `time_resolution` seconds per time step
    /// (1.0 from API 2 masters), `params` the scenario's sim_params. Throwing closes the
    /// connection, as mosaik expects of a failed init.
    virtual void init(const std::string& sid, double time_resolution, const map& params);
    /// Makes `num` entities of `model` with the model's params (keyword arguments).
    virtual std::vector<entity> create(int num, const std::string& model, const map& params) = 0;
    /// All entities are made and connected.
    virtual void setup_done() {}
    /// Steps to `time` with the inputs mosaik delivered; returns the next time to be stepped
    /// (> `time`; time-based simulators must return one), or nothing. `max_advance`: mosaik
    /// promises no input before `max_advance + 1` (-1 from API 2 masters, which do not say).
    virtual std::optional<std::int64_t> step(std::int64_t time, const mosaik::inputs& in,
                                             std::int64_t max_advance) = 0;
    /// `{eid: {attr: value}}` for the wanted outputs; event-based and hybrid simulators may
    /// omit entries and add `"time": t`.
    virtual value get_data(const mosaik::outputs& wanted) = 0;
    /// After `stop`, before the process exits.
    virtual void finalize() {}

  protected:
    /// Registers an extra method mosaik may call during setup (`meta.extra_methods`), with its
    /// C++ signature as RPC handlers have one (`rpc::router::expose`): arguments convert to the
    /// declared parameters, `sim::arg(...)` specs name them for keywords and give defaults, and
    /// a wrong argument count, name or type is answered with a TypeError failure before any of
    /// the simulator's code runs:
    ///
    ///     extra_method("scale", [this](double k) { factor_ = k; }, sim::arg("factor"));
    template <class F, class... Args>
    void extra_method(std::string name, F&& f, Args&&... params) {
        extras_.expose(name, std::forward<F>(f), std::forward<Args>(params)...);
        extra_names_.push_back(std::move(name));
    }
    /// Registers a member function of the derived simulator as an extra method.
    template <class T, class M, class... Args>
    requires std::is_member_function_pointer_v<M>
    void extra_method(std::string name, M member, T* self, Args&&... params) {
        extras_.expose(name, member, self, std::forward<Args>(params)...);
        extra_names_.push_back(std::move(name));
    }
    /// Registers an extra method that takes mosaik's arguments as they came.
    void extra_method_raw(std::string name, std::function<value(const array&, const map&)> f);
    /// mosaik, for calls back during `step`.
    mosaik::remote& mosaik() noexcept { return remote_; }
    /// This simulator's id (`init`'s `sid`).
    const std::string& sid() const noexcept { return sid_; }

  private:
    friend class dispatcher;
    rpc::router extras_;
    std::vector<std::string> extra_names_;  // in the order registered, for meta
    mosaik::remote remote_;
    std::string sid_;
};

/// How the simulator reaches mosaik, from the command line mosaik uses.
struct options {
    std::string address;  ///< HOST:PORT
    bool remote = false;  ///< listen on it (mosaik's `connect:` starter) instead of connecting
    double timeout = 60;  ///< seconds to connect, or to wait for mosaik to connect
    std::string log_level = "info";
};

/// Parses `prog [options] HOST:PORT` (`-r/--remote`, `-t/--timeout SEC`, `-l/--log-level`).
/// Returns nothing (after printing) for --help; throws `std::invalid_argument` for bad usage.
std::optional<options> parse_command_line(int argc, char** argv, const std::string& description);

/// Serves mosaik over one connection until `stop` or the connection ends. Returns the exit
/// status: 0 after `stop`, 1 if mosaik went away or init failed.
int serve(simulator& sim, const options& opts);

/// A whole `main`: parses the command line (`description` is what `--help` says the program
/// is), makes `T()` and serves.
template <class T>
int main(int argc, char** argv, const std::string& description = "a mosaik simulator") {
    std::optional<options> opts;
    try {
        opts = parse_command_line(argc, argv, description);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
        return 2;
    }
    if (!opts) return 0;
    T sim;
    return serve(sim, *opts);
}

}  // namespace sim::mosaik

#pragma once
/// Scenario files: what `sim-runner` runs (docs/scenarios.md, docs/scenario.schema.json).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sim/codec/value.hpp>

namespace sim {

/// Where in a scenario file something was written, for messages: `file:line:column: key`.
struct scenario_location {
    std::string file;
    int line = 0;     ///< 1-based; 0 when unknown
    int column = 0;   ///< 1-based
    std::string key;  ///< `agents[2].count`
    std::string to_string() const;
};

/// A scenario that cannot be run. `what()` lists every problem found, one per line, each as
/// `file:line:column: key: what was expected, what was found`.
class scenario_error : public std::runtime_error {
  public:
    explicit scenario_error(std::vector<std::string> problems);
    const std::vector<std::string>& problems() const noexcept { return problems_; }

  private:
    std::vector<std::string> problems_;
};

struct scenario_container {
    std::string name;
    /// "auto": in-process for a thread, loopback TCP with a free port for a process.
    std::string address = "auto";
    std::string codec = "json";
    bool process = false;  ///< a process of its own instead of a thread of the runner
    std::string tls_ca, tls_cert, tls_key;  ///< all three or none
    scenario_location where;
};

struct scenario_clock {
    bool realtime = false;
    std::string start = "1970-01-01T00:00:00+00:00";  ///< the date at time 0 (virtual)
    double until = 0;                                 ///< the last time stepped to
    std::optional<double> step;                       ///< fixed steps; none: from event to event
    double factor = 1;    ///< real time: simulated seconds per wall-clock second
    bool strict = false;  ///< real time: fail when later than `max_lag`
    double max_lag = 1;
};

/// A parameter's value: a constant or drawn from a distribution with the scenario's seed.
struct scenario_param {
    enum class kind { constant, uniform, normal, randint, choice };
    kind k = kind::constant;
    value constant;       ///< constant; choice: the array to choose from
    double a = 0, b = 0;  ///< uniform/randint: low, high; normal: mean, sd
};

/// Which agents each agent of a group knows (handed over as the `knows` argument).
struct scenario_topology {
    enum class kind { none, all, ring, random, star, explicit_list };
    kind k = kind::none;
    int degree = 0;                   ///< random
    std::string group;                ///< star: the group at the centre
    std::vector<std::string> agents;  ///< explicit: "group/index"
};

struct scenario_agents {
    std::string name;  ///< the group's name (default: its type)
    std::string type;
    std::size_t count = 1;
    /// Where its agents live: one container (default: the first), or several, each taking a
    /// contiguous block of the group (the first ones one more when the count does not divide).
    std::vector<std::string> containers;
    std::vector<std::pair<std::string, scenario_param>> params;
    scenario_topology knows;
    scenario_location where;
};

struct scenario_record {
    std::string group;     ///< an agent group's name, or
    std::string entities;  ///< a mosaik entity set's name (mosaik.entities[].name)
    std::vector<std::string> observe;
    bool on_change = false;  ///< only rows whose values changed since the last sample
    std::string reduce;      ///< "", "sum", "mean", "min", "max", "count": one row per step
    std::string to;          ///< file name in the output directory; .csv or .jsonl
    /// Entities: a first row each before the run (mosaik's World.get_data), with no time.
    bool initial = false;
    scenario_location where;
};

/// A `mosaik:` section: a world of mosaik-API simulators that sim-runner couples as the master,
/// key for key as mosaik's World API (docs/cosim.md).
struct scenario_mosaik {
    /// How a simulator of `sim_config` is reached: started (`cmd`, in `cwd` with `env`; it
    /// connects back to `%(addr)s`), already listening (`connect`), or loaded into the master's
    /// process (`plugin`, a shared library with SIM_MOSAIK_PLUGIN, and its `simulator`).
    struct sim_config {
        std::string name;
        std::string cmd;
        std::string cwd;  ///< relative to the scenario file; empty: its directory
        std::vector<std::pair<std::string, std::string>> env;
        std::string python;  ///< module:Class, run by mosaik-api-v3 in a python3 process
        /// A libsim container of agents in the master's process: `{codec: json, models:
        /// {agent_type: {params, attrs, trigger, ...}}}` (mosaik meta's model keys); nil: none.
        value container;
        std::string connect;    ///< host:port
        std::string plugin;     ///< relative to the scenario file
        std::string simulator;  ///< the plugin's simulator type; empty: the config's name
        scenario_location where;
    };
    struct group {
        std::string id;
        std::string parent;  ///< empty: at the top
    };
    struct simulator {
        std::string sid;
        std::string sim;    ///< a sim_config name
        std::string group;  ///< empty: none
        map params;
        scenario_location where;
    };
    struct entities {
        std::string name;  ///< names the set of full ids made
        std::string sim;   ///< a simulator's sid
        std::string model;
        std::int64_t count = 1;
        map params;
        scenario_location where;
    };
    struct connection {
        /// Full entity ids (SID.EID) or entity sets' names; sets are paired as `pairing` says.
        std::string from, to;
        /// "all": every entity of `from` to every one of `to` (mosaik's connect_many_to_one
        /// when `to` is one entity), "zip": the i-th to the i-th, "random": mosaik's
        /// connect_randomly with the scenario's seed. Empty: "all" when a side is one entity.
        std::string pairing;
        bool evenly = true;             ///< random: as evenly as possible
        std::int64_t max_connects = 0;  ///< random, not evenly: most per `to` entity; 0: any
        std::vector<std::pair<std::string, std::string>> attrs;
        std::int64_t time_shifted = 0;
        bool weak = false;
        map initial_data;
        bool async_requests = false;  ///< get_data/set_data across it during steps
        scenario_location where;
    };

    double time_resolution = 1.0;
    std::int64_t until = 0;  ///< exclusive, in steps
    bool lazy_stepping = true;
    std::int64_t max_loop_iterations = 100;
    /// Real time: wall seconds per simulated second (a step takes rt_factor * time_resolution).
    std::optional<double> rt_factor;
    bool rt_strict = false;  ///< fail when a step starts a whole step late
    /// mosaik_config's start_timeout: how long a started simulator has to connect back.
    double start_timeout = 10;
    /// How long any call of a simulator may take before the run fails.
    double call_timeout = 60;
    std::vector<sim_config> configs;
    std::vector<group> groups;
    std::vector<simulator> simulators;
    std::vector<entities> entity_sets;
    std::vector<connection> connections;
    std::vector<std::pair<std::string, std::int64_t>> initial_events;  ///< sid, time
    /// Extra methods called in order before the run (`sim.method(*args, **kwargs)`).
    struct call {
        std::string sid, method;
        array args;
        map kwargs;
        scenario_location where;
    };
    std::vector<call> calls;
    scenario_location where;
};

struct scenario {
    std::string file;
    std::string name;
    std::uint64_t seed = 0;
    std::vector<std::string> plugins;
    scenario_clock clock;
    std::vector<scenario_container> containers;
    std::vector<scenario_agents> agents;
    std::vector<scenario_record> records;
    std::optional<scenario_mosaik> mosaik;  ///< a world sim-runner runs as the mosaik master

    const scenario_agents* group(std::string_view name) const noexcept;
    const scenario_container* container(std::string_view name) const noexcept;
};

/// Reads a scenario file, applies `overrides` ("key=value" with a dotted path:
/// `seed=7`, `agents.0.count=50`, `clock.until=2h`), checks it against the schema and the
/// cross-references (containers, groups), and returns it. Throws `scenario_error`.
scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides = {});
/// The same from text; `file` names it in messages.
scenario parse_scenario(std::string_view yaml, const std::string& file,
                        const std::vector<std::string>& overrides = {});

/// The JSON Schema of scenario files (docs/scenario.schema.json).
std::string_view scenario_schema() noexcept;

/// "900", "900s", "15min", "6h", "1d", "250ms" in seconds; `std::invalid_argument` otherwise.
double parse_duration(std::string_view text);

}  // namespace sim

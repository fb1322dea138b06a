#include "scenario/cosim.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <stdexcept>

#include <sim/agent/rng.hpp>
#include <sim/codec/json_codec.hpp>
#include <sim/core/log.hpp>
#include <sim/mosaik/attribute_classes.hpp>
#include <sim/mosaik/container_simulator.hpp>
#include <sim/mosaik/local_simulator.hpp>
#include <sim/mosaik/plugin.hpp>
#include <sim/mosaik/remote_simulator.hpp>
#include <sim/mosaik/world.hpp>
#include <sim/runtime/runtime.hpp>

#include <fmt/format.h>

#include "scenario/plan.hpp"
#include "scenario/recording.hpp"
#include "scenario/summary.hpp"

namespace sim::detail {

namespace {

using mosaik_section = scenario_mosaik;

[[noreturn]] void wrong(const scenario_location& where, const std::exception& e) {
    throw scenario_error({where.to_string() + ": " + e.what()});
}

// The groups a simulator is in, outermost first.
std::vector<std::string> group_path(const mosaik_section& m, const std::string& group) {
    std::vector<std::string> path;
    for (std::string g = group; !g.empty();) {
        path.insert(path.begin(), g);
        auto it = std::find_if(m.groups.begin(), m.groups.end(),
                               [&](const auto& x) { return x.id == g; });
        g = it == m.groups.end() ? std::string() : it->parent;
    }
    return path;
}

// The simulator plugins a world has loaded, each once, by path.
using plugin_set = std::map<std::string, mosaik::simulator_registry>;

std::unique_ptr<mosaik::coupled_simulator> load(const std::filesystem::path& here,
                                                const mosaik_section::sim_config& c,
                                                const std::string& sid, plugin_set& plugins) {
    const std::string path = (here / c.plugin).lexically_normal().string();
    try {
        auto it = plugins.find(path);
        if (it == plugins.end()) {
            it = plugins.emplace(path, mosaik::simulator_registry{}).first;
            try {
                load_simulator_plugin(path, it->second);
            } catch (...) {
                plugins.erase(it);
                throw;
            }
        }
        return std::make_unique<mosaik::local_simulator>(sid, it->second.make(c.simulator));
    } catch (const std::exception& e) {
        wrong(c.where, e);
    }
}

// mosaik's python: starter, in a process of its own: mosaik-api-v3's start_simulation runs an
// instance of the class and connects back (`module:Class` was checked: it needs no quoting).
std::string python_command(const std::string& module_class) {
    return "python3 -c '"
           "import importlib, sys\n"
           "module, _, name = sys.argv.pop(1).partition(\":\")\n"
           "try:\n"
           "    import mosaik_api_v3\n"
           "except ImportError as e:\n"
           "    sys.exit(\"python: needs the package mosaik-api-v3 (pip install mosaik-api-v3): \" "
           "+ str(e))\n"
           "mosaik_api_v3.start_simulation(getattr(importlib.import_module(module), name)())\n"
           "' " +
           module_class + " %(addr)s";
}

// The containers of `containers:` in a world, by name, once their simulators are started.
using world_containers = std::map<std::string, mosaik::container_simulator*>;

// A container: simulator's models, read as a simulator's meta is, with the same checks: agent
// types, or for a named container its agent groups (whose params come from agents:).
std::map<std::string, mosaik::model> models_of(const mosaik_section::sim_config& c,
                                               const scenario& s, const agent_registry& types,
                                               bool named) {
    std::map<std::string, mosaik::model> models;
    for (const auto& [name, spec] : c.container["models"].as_map()) {
        const std::string type =
            named ? s.group(name.as_string())->type : name.as_string();  // checked by the loader
        if (!types.contains(type))
            wrong(c.where, std::invalid_argument(
                               fmt::format("container: no agent type \"{}\" (there are: {})", type,
                                           fmt::join(types.types(), ", "))));
        mosaik::model_description d;
        try {
            d = mosaik::model_description::from_value(spec);
        } catch (const std::invalid_argument& e) {
            wrong(c.where,
                  std::invalid_argument("container: model " + name.as_string() + ": " + e.what()));
        }
        if (named && !d.params.empty())
            wrong(c.where, std::invalid_argument("container: model " + name.as_string() +
                                                 ": its agents' params are in agents:"));
        models.emplace(
            name.as_string(),
            mosaik::model{.is_public = d.is_public,
                          .params = d.params,
                          .attrs = d.attrs.value_or(std::vector<std::string>{}),
                          .any_inputs = d.any_inputs,
                          .trigger = d.trigger.value_or(std::vector<std::string>{}),
                          .non_persistent = d.non_persistent.value_or(std::vector<std::string>{})});
    }
    return models;
}

// A container: simulator: a libsim container of agents of `types`, in the master's process:
// one of `containers:` (by `name`, with its agents from agents:), or one of its own whose
// agents mosaik's create makes.
std::unique_ptr<mosaik::coupled_simulator> contain(const scenario& s,
                                                   const mosaik_section::sim_config& c,
                                                   const std::string& sid,
                                                   const agent_registry& types, std::uint64_t seed,
                                                   world_containers& made) {
    const value* name = c.container.as_map().find(value("name"));
    container_options options;
    std::string address;
    if (name != nullptr) {
        const scenario_container& spec = *s.container(name->as_string());
        options.name = spec.name;
        options.seed = seed;
        options.channel.codec = spec.codec;
        if (!spec.tls_ca.empty())
            options.channel.transport.tls = tls_options{spec.tls_ca, spec.tls_cert, spec.tls_key};
        address = spec.address != "auto" ? spec.address : local_name(s, spec);
    } else if (const value* codec = c.container.as_map().find(value("codec"))) {
        options.channel.codec = codec->as_string();
    }
    auto sim = std::make_unique<mosaik::container_simulator>(
        types, models_of(c, s, types, name != nullptr), options, address);
    if (name != nullptr) made[name->as_string()] = sim.get();
    return std::make_unique<mosaik::local_simulator>(sid, std::move(sim));
}

// The agents of agents:, made in their containers as a run of the scenario alone would make
// them (placement, ids, seeded params, peers), all before any starts; each named container's
// models then hand them to mosaik's create in id order.
std::size_t populate(const scenario& s, const agent_registry& types, std::uint64_t seed,
                     const world_containers& made) {
    std::vector<mosaik::container_simulator*> sims;
    std::vector<std::string> urls;
    for (const auto& spec : s.containers) {
        sims.push_back(made.at(spec.name));
        urls.push_back(sims.back()->container().base_url());
        sims.back()->container().hold_starts();
    }
    const placement plan = plan_placement(s, urls, std::vector<std::size_t>(sims.size(), 0));
    auto requests = spawn_requests(s, plan, seed, sims.size());
    for (std::size_t i = 0; i < sims.size(); ++i) {
        for (auto& r : requests[i]) {
            try {
                agent& a = types.spawn(sims[i]->container(), r.type, {}, std::move(r.kwargs));
                if (a.id() != r.id) throw std::logic_error("agent ids out of plan");
            } catch (const sim::error& e) {
                throw scenario_error({r.group->where.to_string() +
                                      ": cannot make an agent of type \"" + r.type +
                                      "\": " + e.what()});
            }
        }
    }
    for (std::size_t g = 0; g < s.agents.size(); ++g) {
        std::vector<std::vector<std::string>> ids(sims.size());
        for (const auto& a : plan.groups[g])
            ids[a.container].push_back(a.id);
        for (std::size_t i = 0; i < sims.size(); ++i) {
            if (!ids[i].empty()) sims[i]->adopt(s.agents[g].name, std::move(ids[i]));
        }
    }
    return plan.agents;
}

std::unique_ptr<mosaik::coupled_simulator> reach(const scenario& s,
                                                 const mosaik_section::simulator& sim,
                                                 const agent_registry& types, std::uint64_t seed,
                                                 plugin_set& plugins, world_containers& made) {
    const auto& configs = s.mosaik->configs;
    const auto c = std::find_if(configs.begin(), configs.end(),
                                [&](const auto& x) { return x.name == sim.sim; });
    const std::filesystem::path here = std::filesystem::path(s.file).parent_path();
    if (!c->plugin.empty()) return load(here, *c, sim.sid, plugins);
    if (!c->container.is_nil()) return contain(s, *c, sim.sid, types, seed, made);
    mosaik::launch_options o;
    const auto ms = [](double seconds) {
        return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
    };
    o.start_timeout = ms(s.mosaik->start_timeout);
    o.call_timeout = ms(s.mosaik->call_timeout);
    o.cwd = (here / c->cwd).lexically_normal().string();
    if (o.cwd.empty()) o.cwd = ".";
    // The simulators bundled with libsim (example-sim, agents-sim) live beside sim-runner:
    // a command finds them by name.
    std::error_code ignored;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ignored).parent_path();
    if (!self.empty()) {
        const char* path = std::getenv("PATH");
        o.env["PATH"] = self.string() + (path != nullptr ? ":" + std::string(path) : "");
    }
    for (const auto& [k, v] : c->env)
        o.env[k] = v;
    try {
        if (!c->connect.empty()) return mosaik::remote_simulator::connect(sim.sid, c->connect, o);
        return mosaik::remote_simulator::launch(
            sim.sid, c->python.empty() ? c->cmd : python_command(c->python), o);
    } catch (const connection_error& e) {
        // A simulator that does not start is a failure of the run (exit 1), not of the file.
        throw std::runtime_error(c->where.to_string() + ": " + e.what());
    }
}

// The full ids of each entity set, by its name.
using entity_sets = std::map<std::string, std::vector<std::string>>;

// The (from, to) pairs of full ids a connection makes: mosaik's connect_many_to_one, a zip,
// or connect_randomly (evenly: each round of |to| sources goes to a fresh shuffle of `to`;
// else each source to a random `to` with fewer than max_connects).
std::vector<std::pair<std::string, std::string>> pairs_of(const mosaik_section::connection& c,
                                                          const entity_sets& sets, rng& draws) {
    auto ends = [&](const std::string& name) {
        auto it = sets.find(name);
        return it != sets.end() ? it->second : std::vector<std::string>{name};
    };
    const std::vector<std::string> from = ends(c.from);
    std::vector<std::string> to = ends(c.to);
    std::string pairing = c.pairing;
    if (pairing.empty() && (from.size() == 1 || to.size() == 1)) pairing = "all";
    std::vector<std::pair<std::string, std::string>> out;
    if (pairing == "all") {
        for (const auto& a : from)
            for (const auto& b : to)
                out.emplace_back(a, b);
    } else if (pairing == "zip") {
        if (from.size() != to.size())
            throw std::invalid_argument(
                fmt::format("pairing: zip needs sets of one size ({} has {}, {} has {})", c.from,
                            from.size(), c.to, to.size()));
        for (std::size_t i = 0; i < from.size(); ++i)
            out.emplace_back(from[i], to[i]);
    } else if (pairing == "random") {
        if (to.empty()) throw std::invalid_argument(c.to + " has no entities to connect to");
        const auto most = c.max_connects > 0 ? static_cast<std::uint64_t>(c.max_connects)
                                             : std::numeric_limits<std::uint64_t>::max();
        if (!c.evenly && c.max_connects > 0 && from.size() > to.size() * most)
            throw std::invalid_argument(fmt::format(
                "{} entities cannot go to {} with at most {} each", from.size(), to.size(), most));
        std::map<std::string, std::uint64_t> received;
        for (std::size_t i = 0; i < from.size(); ++i) {
            if (c.evenly) {
                if (i % to.size() == 0) {
                    for (std::size_t k = to.size(); k > 1; --k)
                        std::swap(to[k - 1], to[draws.below(k)]);
                }
                out.emplace_back(from[i], to[i % to.size()]);
                continue;
            }
            const std::size_t k = draws.below(to.size());
            out.emplace_back(from[i], to[k]);
            if (++received[to[k]] >= most) to.erase(to.begin() + static_cast<std::ptrdiff_t>(k));
        }
    } else {
        throw std::invalid_argument(fmt::format(
            "{} ({} entities) to {} ({}): say how to pair them (pairing: all, zip or random)",
            c.from, from.size(), c.to, to.size()));
    }
    return out;
}

// Starts the world's simulators, makes the agents of agents:, creates the entities, connects
// them and calls the extra methods; returns the entity sets and counts the agents.
entity_sets build(mosaik::world& w, const scenario& s, const agent_registry& types,
                  std::uint64_t seed, plugin_set& plugins, run_summary& summary,
                  world_containers& containers) {
    entity_sets sets;
    const mosaik_section& m = *s.mosaik;
    for (const auto& sim : m.simulators) {
        auto coupled = reach(s, sim, types, seed, plugins, containers);
        try {
            w.start(sim.sid, std::move(coupled), sim.params, group_path(m, sim.group));
        } catch (const std::invalid_argument& e) {
            wrong(sim.where, e);
        }
    }
    if (!s.containers.empty()) summary.agents = populate(s, types, seed, containers);
    for (const auto& set : m.entity_sets) {
        try {
            auto ids = w.create(set.sim, set.count, set.model, set.params);
            auto& named = sets[set.name];
            named.insert(named.end(), ids.begin(), ids.end());
        } catch (const std::invalid_argument& e) {
            wrong(set.where, e);
        }
    }
    for (std::size_t i = 0; i < m.connections.size(); ++i) {
        const auto& c = m.connections[i];
        try {
            rng draws(seed, "mosaik.connections[" + std::to_string(i) + "]");
            for (const auto& [from, to] : pairs_of(c, sets, draws))
                w.connect(from, to, c.attrs,
                          {.time_shifted = c.time_shifted,
                           .weak = c.weak,
                           .initial_data = c.initial_data,
                           .async_requests = c.async_requests});
        } catch (const std::invalid_argument& e) {
            wrong(c.where, e);
        }
    }
    for (const auto& [sid, t] : m.initial_events)
        w.set_initial_event(sid, t);
    for (const auto& c : m.calls) {
        try {
            const value answer = w.call_extra(c.sid, c.method, c.args, c.kwargs);
            log::get("scenario")
                ->info("{}.{} answered {}", c.sid, c.method, to_display_string(answer));
        } catch (const std::invalid_argument& e) {
            wrong(c.where, e);
        }
    }
    return sets;
}

// The scenario's recordings of entity attributes, each fed after every step of its entities'
// simulator and flushed then, so that a run that fails leaves whole steps behind.
std::vector<std::unique_ptr<recording>> observe(mosaik::world& w, const scenario& s,
                                                const entity_sets& sets,
                                                const std::filesystem::path& dir) {
    std::vector<std::unique_ptr<recording>> out;
    if (!s.records.empty()) std::filesystem::create_directories(dir);
    const double resolution = s.mosaik->time_resolution;
    for (const auto& spec : s.records) {
        auto& rec = *out.emplace_back(std::make_unique<recording>(spec, dir));
        const std::vector<std::string>& ids = sets.at(spec.entities);
        try {
            if (spec.initial) {
                const value before = w.get_data(ids, spec.observe);
                std::vector<std::vector<value>> rows;
                for (const auto& id : ids) {
                    auto& row = rows.emplace_back();
                    const value* e = before.as_map().find(value(id));
                    for (const auto& a : spec.observe) {
                        const value* v =
                            e != nullptr && e->is_map() ? e->as_map().find(value(a)) : nullptr;
                        row.push_back(v != nullptr ? *v : value());
                    }
                }
                rec.write(std::nullopt, ids, rows);
            }
            w.observe(ids, spec.observe,
                      [&rec, &ids, resolution](std::int64_t t, const auto& rows) {
                          rec.write(static_cast<double>(t) * resolution, ids, rows);
                          rec.flush();
                      });
        } catch (const std::invalid_argument& e) {
            wrong(spec.where, e);
        }
    }
    return out;
}

void write_file(const std::filesystem::path& path, std::string_view text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

run_summary run_cosim(const scenario& s, const agent_registry& types, const run_options& options) {
    const mosaik_section& m = *s.mosaik;
    const auto started = std::chrono::steady_clock::now();
    run_summary summary;
    summary.scenario = s.name;
    summary.seed = options.seed.value_or(s.seed);
    mosaik::execution_graph graph;
    // Outlives the world: the simulators' code lives in the plugins.
    plugin_set plugins;
    runtime rt({.name = "master"});
    rt.run([&] {
        mosaik::world w({.until = m.until,
                         .time_resolution = m.time_resolution,
                         .lazy_stepping = m.lazy_stepping,
                         .max_loop_iterations = m.max_loop_iterations,
                         .rt_factor = m.rt_factor,
                         .rt_strict = m.rt_strict,
                         .stop = options.stop,
                         .record_graph = !options.execution_graph.empty(),
                         .on_step = [&](std::int64_t t, std::uint64_t steps) {
                             if (!options.progress) return;
                             options.progress(
                                 {.time = static_cast<double>(t),
                                  .until = static_cast<double>(m.until),
                                  .steps = steps,
                                  .messages = 0,
                                  .wall_seconds = std::chrono::duration<double>(
                                                      std::chrono::steady_clock::now() - started)
                                                      .count()});
                         }});
        world_containers containers;
        const entity_sets sets = build(w, s, types, summary.seed, plugins, summary, containers);
        const auto recordings = observe(w, s, sets, options.out_dir);
        try {
            graph = w.run();
        } catch (const std::invalid_argument& e) {
            wrong(m.where, e);
        }
        for (const auto& [name, c] : containers)
            summary.messages += c->calls_served();
        summary.interrupted = w.interrupted();
        summary.simulator_steps = w.steps_by_simulator();
        for (const auto& [sid, n] : summary.simulator_steps)
            summary.steps += n;
        summary.realtime = m.rt_factor.has_value();
        summary.max_lag = w.lateness().max_seconds;
        summary.mean_lag = w.lateness().mean_seconds;
    });
    summary.sim_time = static_cast<double>(m.until);
    summary.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    summary.peak_rss_bytes = peak_rss();
    std::filesystem::create_directories(options.out_dir);
    if (!options.execution_graph.empty()) {
        json_codec json;
        write_file(options.execution_graph, json.encode(graph.to_value()).view());
    }
    write_file(std::filesystem::path(options.out_dir) / "summary.json", summary.to_json());
    return summary;
}

}  // namespace sim::detail

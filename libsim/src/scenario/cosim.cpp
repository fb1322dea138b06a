#include "scenario/cosim.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include <sim/codec/json_codec.hpp>
#include <sim/mosaik/local_simulator.hpp>
#include <sim/mosaik/plugin.hpp>
#include <sim/mosaik/remote_simulator.hpp>
#include <sim/mosaik/world.hpp>
#include <sim/runtime/runtime.hpp>

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

std::unique_ptr<mosaik::coupled_simulator> reach(const scenario& s,
                                                 const mosaik_section::simulator& sim,
                                                 plugin_set& plugins) {
    const auto& configs = s.mosaik->configs;
    const auto c = std::find_if(configs.begin(), configs.end(),
                                [&](const auto& x) { return x.name == sim.sim; });
    const std::filesystem::path here = std::filesystem::path(s.file).parent_path();
    if (!c->plugin.empty()) return load(here, *c, sim.sid, plugins);
    mosaik::launch_options o;
    o.cwd = (here / c->cwd).lexically_normal().string();
    if (o.cwd.empty()) o.cwd = ".";
    for (const auto& [k, v] : c->env)
        o.env[k] = v;
    try {
        if (!c->connect.empty()) return mosaik::remote_simulator::connect(sim.sid, c->connect, o);
        return mosaik::remote_simulator::launch(sim.sid, c->cmd, o);
    } catch (const connection_error& e) {
        wrong(c->where, e);
    }
}

void build(mosaik::world& w, const scenario& s, plugin_set& plugins) {
    const mosaik_section& m = *s.mosaik;
    for (const auto& sim : m.simulators) {
        auto coupled = reach(s, sim, plugins);
        try {
            w.start(sim.sid, std::move(coupled), sim.params, group_path(m, sim.group));
        } catch (const std::invalid_argument& e) {
            wrong(sim.where, e);
        }
    }
    for (const auto& set : m.entity_sets) {
        try {
            (void)w.create(set.sim, set.count, set.model, set.params);
        } catch (const std::invalid_argument& e) {
            wrong(set.where, e);
        }
    }
    for (const auto& c : m.connections) {
        try {
            w.connect(
                c.from, c.to, c.attrs,
                {.time_shifted = c.time_shifted, .weak = c.weak, .initial_data = c.initial_data});
        } catch (const std::invalid_argument& e) {
            wrong(c.where, e);
        }
    }
    for (const auto& [sid, t] : m.initial_events)
        w.set_initial_event(sid, t);
}

void write_file(const std::filesystem::path& path, std::string_view text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

run_summary run_cosim(const scenario& s, const run_options& options) {
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
        build(w, s, plugins);
        try {
            graph = w.run();
        } catch (const std::invalid_argument& e) {
            wrong(m.where, e);
        }
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

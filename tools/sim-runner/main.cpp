// sim-runner: runs scenario files (docs/sim-runner.md).
//
//   sim-runner validate FILE [--set key=value]... [--plugin LIB]...
//   sim-runner run FILE [--until T] [--seed N] [--out DIR] [--set key=value]... [--plugin LIB]...
//                  [--execution-graph FILE] [--quiet]
//   sim-runner types [--plugin LIB]...
//   sim-runner container ...   (a scenario's container in a process of its own; the runner
//                               starts these itself)
//
// Exit status: 0 done, 1 the run failed, 2 the scenario or the command line is wrong,
// 130 interrupted (SIGINT or SIGTERM; the recordings are complete up to the last step).

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>

#include <sim/agent/registry.hpp>
#include <sim/scenario/container_main.hpp>
#include <sim/scenario/plugin.hpp>
#include <sim/scenario/runner.hpp>
#include <sim/scenario/scenario.hpp>

#include "example_agents.hpp"

namespace {

std::atomic<bool> interrupted{false};

// The first SIGINT/SIGTERM asks the run to stop: it ends after the current step, or abandons
// a wait that hangs (within a second). Should it still not end, an alarm ends the process a few
// seconds later, as does a second signal at once; the recordings hold every step that ended
// (they are flushed step by step) and container processes end with their lifeline.
constexpr unsigned forced_exit_seconds = 5;

extern "C" void on_forced_exit(int) {
    constexpr char said[] = "sim-runner: the run did not end after the signal; exiting\n";
    (void)!::write(STDERR_FILENO, said, sizeof said - 1);
    ::_exit(130);
}

extern "C" void on_signal(int) {
    if (interrupted.exchange(true)) on_forced_exit(0);
    ::alarm(forced_exit_seconds);
}

std::string human_duration(double seconds) {
    if (seconds < 60) return fmt::format("{:.0f}s", seconds);
    if (seconds < 3600)
        return fmt::format("{:.0f}min{:02.0f}s", seconds / 60 - 0.5, std::fmod(seconds, 60));
    return fmt::format("{:.1f}h", seconds / 3600);
}

// A bar on a terminal, redrawn at most ten times a second; a plain line every five seconds
// otherwise (logs, CI).
class progress_display {
  public:
    explicit progress_display(bool quiet) : quiet_(quiet), tty_(::isatty(STDERR_FILENO) == 1) {}

    void operator()(const sim::run_progress& p) {
        if (quiet_) return;
        const double every = tty_ ? 0.1 : 5.0;
        if (p.wall_seconds - last_ < every && p.time < p.until) return;
        last_ = p.wall_seconds;
        const double done = p.until > 0 ? std::min(1.0, p.time / p.until) : 1.0;
        const double steps_per_s =
            p.wall_seconds > 0 ? static_cast<double>(p.steps) / p.wall_seconds : 0;
        const double msgs_per_s =
            p.wall_seconds > 0 ? static_cast<double>(p.messages) / p.wall_seconds : 0;
        const double eta = done > 0 ? p.wall_seconds * (1 - done) / done : 0;
        std::string stats = fmt::format("t={}/{} {:.0f} steps/s {:.0f} msg/s ETA {}", p.time,
                                        p.until, steps_per_s, msgs_per_s, human_duration(eta));
        if (tty_) {
            constexpr int width = 30;
            const int filled = static_cast<int>(done * width);
            std::fprintf(stderr, "\r[%s%s] %3.0f%% %s\033[K",
                         std::string(static_cast<std::size_t>(filled), '#').c_str(),
                         std::string(static_cast<std::size_t>(width - filled), '.').c_str(),
                         done * 100, stats.c_str());
            drawn_ = true;
        } else {
            std::fprintf(stderr, "progress: %3.0f%% %s\n", done * 100, stats.c_str());
        }
    }
    void finish() {
        if (drawn_) std::fprintf(stderr, "\n");
    }

  private:
    bool quiet_;
    bool tty_;
    bool drawn_ = false;
    double last_ = -1e9;
};

void print_problems(const sim::scenario_error& e) {
    for (const auto& p : e.problems())
        std::cerr << "error: " << p << "\n";
}

// `sim-runner container ...`: a scenario's container in a process of its own, started by the
// runner (sim::container_main's options). The runner passes the plugins its scenario uses first:
// `container --plugin P ...`.
int container_command(int argc, char** argv, sim::agent_registry& types) {
    std::vector<char*> rest{argv[1]};
    for (int i = 2; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--plugin" && i + 1 < argc) {
            try {
                sim::load_agent_plugin(argv[++i], types);
            } catch (const std::exception& e) {
                std::cerr << "sim-runner container: " << e.what() << "\n";
                return 2;
            }
        } else {
            rest.push_back(argv[i]);
        }
    }
    return sim::container_main(static_cast<int>(rest.size()), rest.data(), types);
}

// What the command line asked for, and the subcommands that tell which one it was.
struct command_line {
    std::string file;
    std::vector<std::string> sets;
    std::vector<std::string> plugins;
    std::string out_dir = ".";
    std::string until_text;
    std::string execution_graph;
    std::uint64_t seed = 0;
    bool quiet = false;
    CLI::App* validate = nullptr;
    CLI::App* run = nullptr;
    CLI::App* types = nullptr;
    CLI::Option* seed_option = nullptr;
};

void define_commands(CLI::App& app, command_line& cl) {
    app.require_subcommand(1);
    auto add_plugins = [&](CLI::App* cmd) {
        cmd->add_option("--plugin", cl.plugins, "load agent types from this shared library")
            ->allow_extra_args(false);
    };
    auto add_sets = [&](CLI::App* cmd) {
        cmd->add_option("--set", cl.sets, "override a key: --set agents.0.count=50")
            ->allow_extra_args(false);
    };

    cl.validate = app.add_subcommand("validate",
                                     "check a scenario file against the schema and its references");
    cl.validate->add_option("file", cl.file, "the scenario file (YAML)")->required();
    add_sets(cl.validate);
    add_plugins(cl.validate);

    cl.run = app.add_subcommand("run", "run a scenario and write its recordings");
    cl.run->add_option("file", cl.file, "the scenario file (YAML)")->required();
    cl.run->add_option("--until", cl.until_text,
                       "run to this time instead of clock.until (900, 15min, 1d)");
    cl.seed_option =
        cl.run->add_option("--seed", cl.seed, "the random seed instead of the scenario's");
    cl.run->add_option("--out", cl.out_dir, "directory for the recordings and summary.json")
        ->capture_default_str();
    add_sets(cl.run);
    cl.run->add_option("--execution-graph", cl.execution_graph,
                       "with a mosaik: section, write the run's execution graph (JSON) here");
    cl.run->add_flag("-q,--quiet", cl.quiet, "print nothing but errors");
    add_plugins(cl.run);

    cl.types = app.add_subcommand("types", "list the agent types this sim-runner knows");
    add_plugins(cl.types);
}

// Loads plugins and remembers their absolute paths, which container processes load too.
class plugin_loader {
  public:
    explicit plugin_loader(sim::agent_registry& types) : types_(types) {}

    bool load(const std::string& path) {
        try {
            sim::load_agent_plugin(path, types_);
            loaded_.push_back(std::filesystem::absolute(path).string());
            return true;
        } catch (const std::exception& e) {
            std::cerr << "error: " << e.what() << "\n";
            return false;
        }
    }
    const std::vector<std::string>& loaded() const { return loaded_; }

  private:
    sim::agent_registry& types_;
    std::vector<std::string> loaded_;
};

// What the schema cannot know: the agent types this sim-runner has.
int validate_command(const command_line& cl, const sim::scenario& s,
                     const sim::agent_registry& types) {
    bool known = true;
    for (const auto& g : s.agents) {
        if (!types.contains(g.type)) {
            std::cerr << "error: " << g.where.to_string() << ".type: unknown agent type \""
                      << g.type
                      << "\" (known: " << fmt::format("{}", fmt::join(types.types(), ", "))
                      << ")\n";
            known = false;
        }
    }
    if (!known) return 2;
    if (s.mosaik) {
        std::cout << cl.file << ": valid (a mosaik world of " << s.mosaik->simulators.size()
                  << " simulators, " << s.mosaik->entity_sets.size() << " entity sets, "
                  << s.mosaik->connections.size() << " connections";
        if (!s.containers.empty())
            std::cout << "; " << s.containers.size() << " containers, " << s.agents.size()
                      << " agent groups";
        std::cout << ")\n";
        return 0;
    }
    std::cout << cl.file << ": valid (" << s.containers.size() << " containers, " << s.agents.size()
              << " agent groups, " << s.records.size() << " recordings)\n";
    return 0;
}

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;  // a signal is a request to stop, not an error of the call it hits
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    struct sigaction alarm_action {};
    alarm_action.sa_handler = on_forced_exit;
    sigemptyset(&alarm_action.sa_mask);
    sigaction(SIGALRM, &alarm_action, nullptr);
}

void print_summary(const sim::scenario& s, const sim::run_summary& summary,
                   const std::string& out_dir) {
    auto per_second = [&](std::uint64_t n) {
        return summary.wall_seconds > 0 ? static_cast<double>(n) / summary.wall_seconds : 0.0;
    };
    if (s.mosaik) {
        // A mosaik world has simulators, not agents and messages of ours to count.
        std::cout << fmt::format(
            "{}: {} at t={} after {} steps of {} simulators in {:.2f} s ({:.0f} steps/s), peak "
            "memory {:.1f} MiB; recordings and summary.json in {}\n",
            s.name, summary.interrupted ? "interrupted" : "done", summary.sim_time, summary.steps,
            summary.simulator_steps.size(), summary.wall_seconds, per_second(summary.steps),
            static_cast<double>(summary.peak_rss_bytes) / (1024.0 * 1024.0), out_dir);
    } else {
        std::cout << fmt::format(
            "{}: {} at t={} after {} steps in {:.2f} s ({:.0f} steps/s), {} agents, {} messages "
            "({:.0f}/s), {} wake-ups, {:.0f} events/s, peak memory {:.1f} MiB; recordings and "
            "summary.json in {}\n",
            s.name, summary.interrupted ? "interrupted" : "done", summary.sim_time, summary.steps,
            summary.wall_seconds, per_second(summary.steps), summary.agents, summary.messages,
            per_second(summary.messages), summary.wakeups,
            per_second(summary.messages + summary.wakeups),
            static_cast<double>(summary.peak_rss_bytes) / (1024.0 * 1024.0), out_dir);
    }
    if (!summary.simulator_steps.empty()) {
        std::vector<std::string> each;
        for (const auto& [sid, n] : summary.simulator_steps)
            each.push_back(fmt::format("{} {}", sid, n));
        std::cout << fmt::format("{}: steps per simulator: {}\n", s.name, fmt::join(each, ", "));
    }
    if (summary.realtime) {
        std::cout << fmt::format(
            "{}: real time: steps started up to {:.3f} ms late (mean {:.3f} ms)\n", s.name,
            summary.max_lag * 1e3, summary.mean_lag * 1e3);
    }
}

int run_command(const command_line& cl, const sim::scenario& s, const sim::agent_registry& types,
                const plugin_loader& plugins) {
    sim::run_options options;
    options.out_dir = cl.out_dir;
    options.execution_graph = cl.execution_graph;
    if (*cl.seed_option) options.seed = cl.seed;
    if (!cl.until_text.empty()) {
        try {
            options.until = sim::parse_duration(cl.until_text);
        } catch (const std::invalid_argument& e) {
            std::cerr << "error: --until: " << e.what() << "\n";
            return 2;
        }
    }
    progress_display progress(cl.quiet);
    options.progress = [&](const sim::run_progress& p) { progress(p); };
    options.stop = &interrupted;
    options.container_command = {std::filesystem::read_symlink("/proc/self/exe").string(),
                                 "container"};
    for (const auto& p : plugins.loaded()) {
        options.container_command.push_back("--plugin");
        options.container_command.push_back(p);
    }
    install_signal_handlers();

    sim::run_summary summary;
    try {
        summary = sim::run_scenario(s, types, options);
        ::alarm(0);  // ended in time: the forced exit is not needed
    } catch (const sim::scenario_error& e) {
        ::alarm(0);
        progress.finish();
        print_problems(e);
        return 2;
    } catch (const std::exception& e) {
        ::alarm(0);
        progress.finish();
        std::cerr << "error: " << cl.file << ": the run failed: " << e.what() << "\n";
        return 1;
    }
    progress.finish();
    if (!cl.quiet) print_summary(s, summary, cl.out_dir);
    return summary.interrupted ? 130 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    sim::agent_registry types;
    sim_runner::add_example_agents(types);
    if (argc > 1 && std::string_view(argv[1]) == "container")
        return container_command(argc, argv, types);

    CLI::App app{"sim-runner: runs libsim scenario files"};
    command_line cl;
    define_commands(app, cl);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help is not a mistake; every other parse error is a usage error: status 2.
        return app.exit(e) == 0 ? 0 : 2;
    }

    plugin_loader plugins(types);
    for (const auto& p : cl.plugins) {
        if (!plugins.load(p)) return 2;
    }
    if (cl.types->parsed()) {
        for (const auto& t : types.types())
            std::cout << t << "\n";
        return 0;
    }

    sim::scenario s;
    try {
        s = sim::load_scenario(cl.file, cl.sets);
    } catch (const sim::scenario_error& e) {
        print_problems(e);
        return 2;
    }
    // A scenario's plugins: paths relative to the scenario file.
    for (const auto& p : s.plugins) {
        std::filesystem::path path = p;
        if (path.is_relative()) path = std::filesystem::path(cl.file).parent_path() / path;
        if (!plugins.load(path.string())) return 2;
    }
    if (cl.validate->parsed()) return validate_command(cl, s, types);
    return run_command(cl, s, types, plugins);
}

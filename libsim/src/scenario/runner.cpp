#include <sim/scenario/runner.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include <fmt/format.h>

#include <sim/agent/container.hpp>
#include <sim/agent/coordinator.hpp>
#include <sim/agent/rng.hpp>
#include <sim/codec/codec.hpp>
#include <sim/core/error.hpp>
#include <sim/core/log.hpp>

namespace sim {

namespace {

std::string json_string(const std::string& s) {
    auto codec = make_codec("json");
    auto b = codec->encode(value(s));
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace

std::string run_summary::to_json() const {
    return fmt::format(
        "{{\n  \"scenario\": {},\n  \"seed\": {},\n  \"sim_time\": {},\n  \"steps\": {},\n"
        "  \"messages\": {},\n  \"wakeups\": {},\n  \"agents\": {},\n  \"wall_seconds\": {:.3f},\n"
        "  \"steps_per_second\": {:.1f},\n  \"messages_per_second\": {:.1f},\n"
        "  \"events_per_second\": {:.1f},\n  \"peak_rss_bytes\": {},\n  \"interrupted\": {}\n}}\n",
        json_string(scenario), seed, sim_time, steps, messages, wakeups, agents, wall_seconds,
        wall_seconds > 0 ? static_cast<double>(steps) / wall_seconds : 0.0,
        wall_seconds > 0 ? static_cast<double>(messages) / wall_seconds : 0.0,
        wall_seconds > 0 ? static_cast<double>(messages + wakeups) / wall_seconds : 0.0,
        peak_rss_bytes, interrupted ? "true" : "false");
}

namespace {

using clock_type = std::chrono::steady_clock;

// One agent of the scenario: where it lives and what it is made with.
struct planned_agent {
    std::size_t group = 0;
    std::size_t index = 0;      // within the group
    std::size_t container = 0;  // index into the scenario's containers
    std::string id;
    std::string address;
};

std::size_t peak_rss() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<std::size_t>(u.ru_maxrss) * 1024;
}

value draw(const scenario_param& p, sim::rng& r) {
    switch (p.k) {
        case scenario_param::kind::constant:
            return p.constant;
        case scenario_param::kind::uniform:
            return value(p.a + (p.b - p.a) * r.uniform());
        case scenario_param::kind::normal: {
            // Box-Muller on two uniforms in (0, 1]: the same numbers on every platform.
            double u1 = 1.0 - r.uniform(), u2 = r.uniform();
            return value(p.a + p.b * std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2));
        }
        case scenario_param::kind::randint: {
            auto lo = static_cast<std::int64_t>(p.a), hi = static_cast<std::int64_t>(p.b);
            if (hi < lo) std::swap(lo, hi);
            return value(
                lo + static_cast<std::int64_t>(r.below(static_cast<std::uint64_t>(hi - lo + 1))));
        }
        case scenario_param::kind::choice: {
            const array& options = p.constant.as_array();
            return options[r.below(options.size())];
        }
    }
    return {};
}

std::string csv_field(const value& v) {
    if (v.is_nil()) return "";
    if (const auto* s = v.get_if<std::string>()) {
        if (s->find_first_of(",\"\n") == std::string::npos) return *s;
        std::string out = "\"";
        for (char ch : *s) {
            if (ch == '"') out += '"';
            out += ch;
        }
        return out + "\"";
    }
    return to_display_string(v);
}

// Times as aiomas writes them: 900, not 900.0.
value time_value(double t) {
    if (t == std::floor(t) && std::abs(t) < 9e15) return value(static_cast<std::int64_t>(t));
    return value(t);
}

std::string time_text(double t) {
    return to_display_string(time_value(t));
}

// One recording: a file and what goes in it.
class recording {
  public:
    recording(const scenario_record& spec, const std::filesystem::path& dir)
        : spec_(spec), jsonl_(spec.to.ends_with(".jsonl")), json_(make_codec("json")) {
        out_.open(dir / spec.to, std::ios::trunc);
        if (!out_) throw std::runtime_error("cannot write " + (dir / spec.to).string());
        if (!jsonl_) {
            out_ << "time";
            if (spec.reduce.empty()) out_ << ",agent";
            for (const auto& o : spec.observe)
                out_ << "," << (spec.reduce.empty() ? o : spec.reduce + "_" + o);
            out_ << "\n";
        }
    }
    const scenario_record& spec() const { return spec_; }

    // rows: per agent of the group, in order, its values of `observe`.
    void write(double t, const std::string& group, const std::vector<std::vector<value>>& rows) {
        if (!spec_.reduce.empty()) {
            std::vector<value> reduced;
            for (std::size_t k = 0; k < spec_.observe.size(); ++k)
                reduced.push_back(reduce(rows, k));
            line(t, "", reduced);
        } else {
            if (spec_.on_change && last_.size() != rows.size()) last_.assign(rows.size(), {});
            for (std::size_t i = 0; i < rows.size(); ++i) {
                if (spec_.on_change) {
                    if (last_[i] == rows[i]) continue;
                    last_[i] = rows[i];
                }
                line(t, group + "/" + std::to_string(i), rows[i]);
            }
        }
    }
    void flush() { out_.flush(); }

  private:
    value reduce(const std::vector<std::vector<value>>& rows, std::size_t k) const {
        if (spec_.reduce == "count") {
            std::int64_t n = 0;
            for (const auto& r : rows) {
                const value& v = r[k];
                if (v.is_bool() ? v.as_bool()
                                : (!v.is_nil() && !(v.is_number() && v.as<double>() == 0)))
                    ++n;
            }
            return value(n);
        }
        double acc = spec_.reduce == "min" ? INFINITY : spec_.reduce == "max" ? -INFINITY : 0;
        bool all_int = true;
        for (const auto& r : rows) {
            const value& v = r[k];
            double x = v.is_bool() ? (v.as_bool() ? 1.0 : 0.0) : v.as<double>();
            all_int = all_int && (v.is_bool() || v.is_integer());
            if (spec_.reduce == "min") {
                acc = std::min(acc, x);
            } else if (spec_.reduce == "max") {
                acc = std::max(acc, x);
            } else {
                acc += x;
            }
        }
        if (spec_.reduce == "mean")
            return value(rows.empty() ? 0.0 : acc / static_cast<double>(rows.size()));
        if (all_int && std::isfinite(acc)) return value(static_cast<std::int64_t>(acc));
        return value(acc);
    }

    void line(double t, const std::string& agent, const std::vector<value>& values) {
        if (jsonl_) {
            map m;
            m.insert_or_assign(value("time"), time_value(t));
            if (!agent.empty()) m.insert_or_assign(value("agent"), value(agent));
            for (std::size_t k = 0; k < values.size(); ++k) {
                std::string key =
                    spec_.reduce.empty() ? spec_.observe[k] : spec_.reduce + "_" + spec_.observe[k];
                m.insert_or_assign(value(key), values[k]);
            }
            auto b = json_->encode(value(std::move(m)));
            out_.write(reinterpret_cast<const char*>(b.data()),
                       static_cast<std::streamsize>(b.size()));
            out_ << "\n";
            return;
        }
        out_ << time_text(t);
        if (!agent.empty()) out_ << "," << agent;
        for (const auto& v : values)
            out_ << "," << csv_field(v);
        out_ << "\n";
    }

    const scenario_record& spec_;
    bool jsonl_;
    std::unique_ptr<codec> json_;
    std::ofstream out_;
    std::vector<std::vector<value>> last_;
};

std::string local_name(const scenario& s, const scenario_container& c) {
    static std::atomic<int> runs{0};
    return fmt::format("local://{}-{}-{}-{}", s.name, c.name, ::getpid(), runs++);
}

}  // namespace

run_summary run_scenario(const scenario& s, const agent_registry& types,
                         const run_options& options) {
    const auto started = clock_type::now();
    run_summary summary;
    summary.scenario = s.name;
    summary.seed = options.seed.value_or(s.seed);
    const double until = options.until.value_or(s.clock.until);
    auto log = log::get("runner");

    // What the file asks for that this runner cannot give: say so before anything starts.
    std::vector<std::string> problems;
    for (const auto& g : s.agents) {
        if (!types.contains(g.type)) {
            auto known = types.types();
            problems.push_back(g.where.to_string() + ".type: unknown agent type \"" + g.type +
                               "\" (known: " + fmt::format("{}", fmt::join(known, ", ")) + ")");
        }
    }
    if (s.clock.realtime)
        problems.push_back(s.file +
                           ": clock.mode: realtime runs are not supported by this sim-runner yet");
    for (const auto& c : s.containers) {
        if (c.process)
            problems.push_back(c.where.to_string() +
                               ".process: containers in processes of their own are not supported "
                               "by this sim-runner yet");
    }
    if (!problems.empty()) throw scenario_error(std::move(problems));

    // ---- the plan: which agent goes where, with which id
    // ------------------------------------------
    std::vector<std::vector<planned_agent>> groups(s.agents.size());
    std::vector<std::size_t> next_id(s.containers.size(), 0);
    auto container_index = [&](const std::string& name) {
        for (std::size_t i = 0; i < s.containers.size(); ++i) {
            if (s.containers[i].name == name) return i;
        }
        return std::size_t{0};
    };

    // ---- containers
    // --------------------------------------------------------------------------------
    std::vector<std::unique_ptr<container_thread>> containers;
    for (const auto& spec : s.containers) {
        container_options o;
        o.name = spec.name;
        o.clock = virtual_time{s.clock.start, 0};
        o.coordinated = true;
        o.seed = summary.seed;
        o.channel.codec = spec.codec;
        if (!spec.tls_ca.empty())
            o.channel.transport.tls = tls_options{spec.tls_ca, spec.tls_cert, spec.tls_key};
        std::string address = spec.address == "auto" ? local_name(s, spec) : spec.address;
        try {
            containers.push_back(std::make_unique<container_thread>(address, o));
        } catch (const std::exception& e) {
            throw scenario_error({spec.where.to_string() + ".address: cannot listen at " + address +
                                  ": " + e.what()});
        }
        containers.back()->invoke([](container& c) { c.hold_starts(); });
    }
    for (std::size_t g = 0; g < s.agents.size(); ++g) {
        const std::size_t ci = container_index(s.agents[g].container);
        for (std::size_t k = 0; k < s.agents[g].count; ++k) {
            planned_agent a;
            a.group = g;
            a.index = k;
            a.container = ci;
            a.id = std::to_string(next_id[ci]++);
            a.address = containers[ci]->base_url() + a.id;
            groups[g].push_back(std::move(a));
        }
        summary.agents += s.agents[g].count;
    }
    auto group_index = [&](const std::string& name) {
        for (std::size_t i = 0; i < s.agents.size(); ++i) {
            if (s.agents[i].name == name) return i;
        }
        return std::size_t{0};
    };

    // ---- agents: parameters drawn, peers chosen, spawned in plan order
    // -------------------------------
    for (std::size_t ci = 0; ci < containers.size(); ++ci) {
        containers[ci]->invoke([&](container& c) {
            for (std::size_t g = 0; g < s.agents.size(); ++g) {
                const scenario_agents& spec = s.agents[g];
                if (container_index(spec.container) != ci) continue;
                std::vector<sim::rng> draws;
                for (const auto& [name, p] : spec.params)
                    draws.emplace_back(summary.seed, "params/" + spec.name + "/" + name);
                sim::rng peers(summary.seed, "knows/" + spec.name);
                const auto& members = groups[g];
                for (std::size_t k = 0; k < members.size(); ++k) {
                    map kwargs;
                    for (std::size_t p = 0; p < spec.params.size(); ++p)
                        kwargs.insert_or_assign(value(spec.params[p].first),
                                                draw(spec.params[p].second, draws[p]));
                    if (spec.knows.k != scenario_topology::kind::none) {
                        array knows;
                        const std::size_t n = members.size();
                        switch (spec.knows.k) {
                            case scenario_topology::kind::all:
                                for (std::size_t j = 0; j < n; ++j)
                                    if (j != k) knows.push_back(value(members[j].address));
                                break;
                            case scenario_topology::kind::ring:
                                if (n > 1) knows.push_back(value(members[(k + n - 1) % n].address));
                                if (n > 2) knows.push_back(value(members[(k + 1) % n].address));
                                break;
                            case scenario_topology::kind::random: {
                                std::set<std::size_t> chosen;
                                while (chosen.size() <
                                       static_cast<std::size_t>(spec.knows.degree)) {
                                    std::size_t j = peers.below(n);
                                    if (j != k && chosen.insert(j).second)
                                        knows.push_back(value(members[j].address));
                                }
                                break;
                            }
                            case scenario_topology::kind::star:
                                for (const auto& centre : groups[group_index(spec.knows.group)])
                                    if (centre.address != members[k].address)
                                        knows.push_back(value(centre.address));
                                break;
                            case scenario_topology::kind::explicit_list:
                                for (const auto& ref : spec.knows.agents) {
                                    auto slash = ref.rfind('/');
                                    const auto& target = groups[group_index(ref.substr(0, slash))];
                                    knows.push_back(
                                        value(target[std::stoul(ref.substr(slash + 1))].address));
                                }
                                break;
                            case scenario_topology::kind::none:
                                break;
                        }
                        kwargs.insert_or_assign(value("knows"), value(std::move(knows)));
                    }
                    try {
                        agent& made = types.spawn(c, spec.type, {}, std::move(kwargs));
                        if (made.id() != members[k].id)
                            throw std::logic_error("agent ids out of plan");
                    } catch (const sim::error& e) {
                        throw scenario_error({spec.where.to_string() + ": cannot make a \"" +
                                              spec.type + "\": " + e.what()});
                    }
                }
            }
        });
    }
    // Every observable a recording names must exist.
    for (const auto& r : s.records) {
        const auto& first = groups[group_index(r.group)].front();
        auto names = containers[first.container]->invoke(
            [&](container& c) { return c.find(first.id)->observables(); });
        for (const auto& o : r.observe) {
            if (std::find(names.begin(), names.end(), o) == names.end()) {
                throw scenario_error(
                    {r.where.to_string() + ".observe: \"" + o + "\" is not an observable of " +
                     r.group + " (it has: " + fmt::format("{}", fmt::join(names, ", ")) + ")"});
            }
        }
    }

    // ---- recordings
    // --------------------------------------------------------------------------------
    std::filesystem::create_directories(options.out_dir);
    std::vector<std::unique_ptr<recording>> recordings;
    for (const auto& r : s.records)
        recordings.push_back(std::make_unique<recording>(r, options.out_dir));
    auto sample = [&](double t) {
        for (auto& rec : recordings) {
            const std::size_t g = group_index(rec->spec().group);
            std::vector<std::vector<value>> rows(groups[g].size());
            for (std::size_t ci = 0; ci < containers.size(); ++ci) {
                containers[ci]->invoke([&](container& c) {
                    for (std::size_t k = 0; k < groups[g].size(); ++k) {
                        if (groups[g][k].container != ci) continue;
                        agent* a = c.find(groups[g][k].id);
                        for (const auto& o : rec->spec().observe)
                            rows[k].push_back(a != nullptr ? a->observe(o) : value());
                    }
                });
            }
            rec->write(t, rec->spec().group, rows);
        }
    };

    auto totals = [&] {
        std::uint64_t calls = 0, wakes = 0;
        for (auto& c : containers) {
            auto [n, w] = c->invoke([](container& k) {
                return std::pair<std::uint64_t, std::uint64_t>(k.calls_served(),
                                                               k.virtual_clock().wakeups());
            });
            calls += n;
            wakes += w;
        }
        return std::pair(calls, wakes);
    };

    // ---- the clock
    // -----------------------------------------------------------------------------------
    for (auto& c : containers)
        c->invoke([](container& k) { k.release_starts(); });
    std::vector<std::string> urls;
    for (auto& c : containers)
        urls.push_back(c->base_url());
    std::exception_ptr failure;
    sim::runtime rt({.name = "sim-runner"});
    rt.run([&] {
        try {
            // The control connections speak the containers' codec (one per scenario) and TLS.
            coordinator_options co;
            const scenario_container& first = s.containers.front();
            co.channel.codec = first.codec;
            if (!first.tls_ca.empty())
                co.channel.transport.tls = tls_options{first.tls_ca, first.tls_cert, first.tls_key};
            coordinator coord(urls, co);
            auto stopped = [&] { return options.stop != nullptr && options.stop->load(); };
            auto after_step = [&](double t) {
                ++summary.steps;
                summary.sim_time = t;
                sample(t);
                if (options.progress) {
                    run_progress p;
                    p.time = t;
                    p.until = until;
                    p.steps = summary.steps;
                    p.messages = totals().first;
                    p.wall_seconds =
                        std::chrono::duration<double>(clock_type::now() - started).count();
                    options.progress(p);
                }
            };
            if (s.clock.step) {
                const double dt = *s.clock.step;
                for (std::uint64_t k = 0;; ++k) {
                    const double t = static_cast<double>(k) * dt;  // no drift from repeated sums
                    if (t > until || stopped()) break;
                    coord.step(t);
                    after_step(t);
                }
            } else {
                std::optional<double> next = coord.step(0);
                after_step(0);
                while (next && *next <= until && !stopped()) {
                    const double t = *next;
                    next = coord.step(t);
                    after_step(t);
                }
            }
            summary.interrupted = stopped();
        } catch (...) {
            failure = std::current_exception();
        }
    });
    for (auto& rec : recordings)
        rec->flush();
    std::tie(summary.messages, summary.wakeups) = totals();
    containers.clear();
    summary.wall_seconds = std::chrono::duration<double>(clock_type::now() - started).count();
    summary.peak_rss_bytes = peak_rss();
    {
        std::ofstream out(std::filesystem::path(options.out_dir) / "summary.json", std::ios::trunc);
        out << summary.to_json();
    }
    if (failure) std::rethrow_exception(failure);
    return summary;
}

}  // namespace sim

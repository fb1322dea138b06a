#include <sim/scenario/runner.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <sim/agent/container.hpp>
#include <sim/agent/coordinator.hpp>
#include <sim/core/error.hpp>
#include <sim/core/log.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/runtime/wait_queue.hpp>

#include "scenario/cosim.hpp"
#include "scenario/hosts.hpp"
#include "scenario/pacing.hpp"
#include "scenario/plan.hpp"
#include "scenario/recording.hpp"
#include "scenario/run_control.hpp"
#include "scenario/summary.hpp"

namespace sim {

namespace {

using detail::clock_type;

// What the file asks for that this runner cannot give: said before anything starts.
void check_runnable(const scenario& s, const agent_registry& types, const run_options& options) {
    std::vector<std::string> problems;
    for (const auto& g : s.agents) {
        if (!types.contains(g.type)) {
            auto known = types.types();
            problems.push_back(g.where.to_string() + ".type: unknown agent type \"" + g.type +
                               "\" (known: " + fmt::format("{}", fmt::join(known, ", ")) + ")");
        }
    }
    const bool any_process = std::any_of(s.containers.begin(), s.containers.end(),
                                         [](const auto& c) { return c.process; });
    if (any_process && options.container_command.empty()) {
        problems.push_back(s.file +
                           ": containers with process: true need a program to start them "
                           "(run_options::container_command; sim-runner gives itself)");
    }
    if (!problems.empty()) throw scenario_error(std::move(problems));
}

std::optional<tls_options> tls_of(const scenario_container& spec) {
    if (spec.tls_ca.empty()) return std::nullopt;
    return tls_options{spec.tls_ca, spec.tls_cert, spec.tls_key};
}

// One run of a scenario: its plan, its containers, its recordings and its clock, in the order
// the run goes through them (execute).
class scenario_run {
  public:
    scenario_run(const scenario& s, const agent_registry& types, const run_options& options)
        : s_(s), types_(types), options_(options), started_(clock_type::now()) {
        summary_.scenario = s.name;
        summary_.seed = options.seed.value_or(s.seed);
        until_ = options.until.value_or(s.clock.until);
        control_.stop = options.stop;
    }

    run_summary execute() {
        std::filesystem::create_directories(options_.out_dir);
        sim::runtime rt({.name = "sim-runner"});
        rt.run([this] {
            sim::spawn([this] { watch_for_stop(); });
            try {
                start_containers();
                make_agents();
                open_recordings();
                step_through();
                std::tie(summary_.messages, summary_.wakeups) = totals();
            } catch (...) {
                note_failure();
            }
            run_over_ = true;
            watching_.notify_all();
            for (auto& rec : recordings_)
                rec->flush();
            // Written before the containers go, so that it is there even if their shutdown is
            // cut short; written again with the final figures below.
            write_summary();
            for (auto& h : hosts_)
                h->shut_down();
        });
        hosts_.clear();
        write_summary();
        if (failure_) std::rethrow_exception(failure_);
        return summary_;
    }

  private:
    bool stopped() const { return options_.stop != nullptr && options_.stop->load(); }

    // Watches for a stop while the run waits on its containers: when the run has not moved for
    // the grace period after a stop (a step or a container that hangs), it fails those waits at
    // once. Nothing it does once it acts yields, so nothing it touches can go away under it.
    void watch_for_stop() {
        std::optional<clock_type::time_point> quiet_since;
        std::uint64_t seen = 0;
        while (!watching_.wait_until(clock_type::now() + std::chrono::milliseconds(20),
                                     [this] { return run_over_; })) {
            if (!control_.stopped()) continue;
            const std::uint64_t now_at =
                control_.progress + (stepping_ != nullptr ? stepping_->stats().waves : 0);
            if (!quiet_since || now_at != seen) {
                quiet_since = clock_type::now();
                seen = now_at;
                continue;
            }
            if (clock_type::now() - *quiet_since < control_.grace) continue;
            log::get("scenario")
                ->warn("{}: stopping: abandoning the waits on its containers", s_.name);
            control_.aborted = true;
            if (stepping_ != nullptr) stepping_->abort();
            for (auto& h : hosts_)
                h->abort();
            return;
        }
    }

    void start_containers() {
        const bool any_process = std::any_of(s_.containers.begin(), s_.containers.end(),
                                             [](const auto& c) { return c.process; });
        for (const auto& spec : s_.containers) {
            // Threads talk in process unless processes take part: those need sockets.
            std::string address = spec.address;
            if (address == "auto")
                address = spec.process || any_process ? "tcp://127.0.0.1:0"
                                                      : detail::local_name(s_, spec);
            try {
                if (spec.process) {
                    hosts_.push_back(detail::make_process_host(
                        options_.container_command, spec, address, s_, summary_.seed, control_));
                    continue;
                }
                container_options o;
                o.name = spec.name;
                o.clock = virtual_time{s_.clock.start, 0};
                o.coordinated = true;
                o.seed = summary_.seed;
                o.channel.codec = spec.codec;
                o.channel.transport.tls = tls_of(spec);
                hosts_.push_back(detail::make_thread_host(address, std::move(o), control_, types_));
            } catch (const sim::connection_error& e) {
                throw scenario_error({spec.where.to_string() + ".address: cannot listen at " +
                                      address + ": " + e.what()});
            }
        }
    }

    // The plan, then every container makes its agents in id order; then every observable a
    // recording names must exist.
    void make_agents() {
        std::vector<std::string> urls;
        std::vector<std::size_t> first_ids;
        for (auto& h : hosts_) {
            urls.push_back(h->base_url());
            first_ids.push_back(h->first_id());
        }
        plan_ = detail::plan_placement(s_, urls, std::move(first_ids));
        summary_.agents = plan_.agents;
        auto requests = detail::spawn_requests(s_, plan_, summary_.seed, hosts_.size());
        for (std::size_t h = 0; h < hosts_.size(); ++h)
            hosts_[h]->spawn(requests[h]);
        for (const auto& r : s_.records) {
            const auto& first = plan_.groups[detail::group_index(s_, r.group)].front();
            auto names = hosts_[first.container]->observables(first.id);
            for (const auto& o : r.observe) {
                if (std::find(names.begin(), names.end(), o) == names.end()) {
                    throw scenario_error(
                        {r.where.to_string() + ".observe: \"" + o + "\" is not an observable of " +
                         r.group + " (it has: " + fmt::format("{}", fmt::join(names, ", ")) + ")"});
                }
            }
        }
    }

    void open_recordings() {
        for (const auto& r : s_.records)
            recordings_.push_back(std::make_unique<detail::recording>(r, options_.out_dir));
    }

    std::pair<std::uint64_t, std::uint64_t> totals() {
        std::uint64_t calls = 0, wakes = 0;
        for (auto& h : hosts_) {
            auto [n, w] = h->stats();
            calls += n;
            wakes += w;
        }
        return {calls, wakes};
    }

    // The agents start, a coordinator steps the containers to each time, and after each step
    // the recordings sample; until the scenario's end, the last event or a stop.
    void step_through() {
        for (auto& h : hosts_)
            h->release_starts();
        std::vector<std::string> urls;
        for (auto& h : hosts_)
            urls.push_back(h->base_url());
        // The control connections speak the containers' codec (one per scenario) and TLS.
        coordinator_options co;
        const scenario_container& first = s_.containers.front();
        co.channel.codec = first.codec;
        co.channel.transport.tls = tls_of(first);
        co.step_timeout = control_.timeout;
        coordinator coord(urls, co);
        stepping_ = &coord;
        struct forget_guard {
            coordinator*& c;
            ~forget_guard() { c = nullptr; }
        } forget{stepping_};
        detail::pacer pace(
            s_.clock, [this] { return stopped(); }, summary_);
        if (s_.clock.step) {
            const double dt = *s_.clock.step;
            for (std::uint64_t k = 0;; ++k) {
                const double t = static_cast<double>(k) * dt;  // no drift from repeated sums
                if (t > until_ || stopped() || !pace.wait_for_step(t)) break;
                coord.step(t);
                after_step(t);
            }
        } else {
            std::optional<double> next;
            if (pace.wait_for_step(0)) {
                next = coord.step(0);
                after_step(0);
            }
            while (next && *next <= until_ && !stopped()) {
                const double t = *next;
                if (!pace.wait_for_step(t)) break;
                next = coord.step(t);
                after_step(t);
            }
        }
        summary_.interrupted = stopped();
    }

    void after_step(double t) {
        ++summary_.steps;
        ++control_.progress;
        summary_.sim_time = t;
        detail::sample(recordings_, s_, plan_, hosts_, t);
        // Step by step: whatever ends the run later, each file ends with a whole step.
        for (auto& rec : recordings_)
            rec->flush();
        if (options_.progress) {
            run_progress p;
            p.time = t;
            p.until = until_;
            p.steps = summary_.steps;
            p.messages = totals().first;
            p.wall_seconds = std::chrono::duration<double>(clock_type::now() - started_).count();
            options_.progress(p);
        }
    }

    // Called from a catch block.
    void note_failure() {
        if (!control_.aborted) {
            failure_ = std::current_exception();
            return;
        }
        // A wait that the stop abandoned: the run was interrupted, not failed.
        summary_.interrupted = true;
        try {
            throw;
        } catch (const std::exception& e) {
            log::get("scenario")->warn("{}: stopped while waiting: {}", s_.name, e.what());
        } catch (...) {
            log::get("scenario")->warn("{}: stopped while waiting", s_.name);
        }
    }

    void write_summary() {
        summary_.wall_seconds = std::chrono::duration<double>(clock_type::now() - started_).count();
        summary_.peak_rss_bytes = detail::peak_rss();
        std::ofstream out(std::filesystem::path(options_.out_dir) / "summary.json",
                          std::ios::trunc);
        out << summary_.to_json();
    }

    const scenario& s_;
    const agent_registry& types_;
    const run_options& options_;
    const clock_type::time_point started_;
    double until_ = 0;
    run_summary summary_;
    detail::run_control control_;
    detail::placement plan_;
    std::vector<std::unique_ptr<detail::host>> hosts_;
    std::vector<std::unique_ptr<detail::recording>> recordings_;
    coordinator* stepping_ = nullptr;
    std::exception_ptr failure_;
    // The watcher's state: the watcher fiber may end after the main fiber.
    bool run_over_ = false;
    wait_queue watching_;
};

}  // namespace

run_summary run_scenario(const scenario& s, const agent_registry& types,
                         const run_options& options) {
    if (s.mosaik) return detail::run_cosim(s, types, options);
    check_runnable(s, types, options);
    return scenario_run(s, types, options).execute();
}

}  // namespace sim

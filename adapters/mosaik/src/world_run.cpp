// world::run: the scheduler (mosaik-scheduler.md §4-§6) over the world world.cpp set up.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <exception>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include <sim/codec/value.hpp>
#include <sim/core/error.hpp>
#include <sim/core/log.hpp>
#include <sim/mosaik/world.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/runtime/sleep.hpp>
#include <sim/runtime/wait_queue.hpp>

#include "world_state.hpp"

namespace sim::mosaik {

namespace {

[[noreturn]] void simulation_error(const std::string& what) {
    throw std::runtime_error(what);
}

}  // namespace

struct world::run_state {
    world& w;
    std::int64_t until;
    execution_graph graph;
    std::uint64_t steps = 0;

    // Steps in flight in fibers of their own, and those answered, for the master's fiber.
    struct answered {
        std::size_t sim;
        value next, data;
        std::exception_ptr error;
    };
    std::size_t in_flight = 0;
    std::deque<answered> answers;
    wait_queue answer_arrived;

    // Real time: when the run began (after setup_done).
    std::optional<std::chrono::steady_clock::time_point> began;

    sim_state& at(std::size_t i) { return *w.sims_[i]; }

    // Real time: how far the wall clock has got, in steps (mosaik's real-time progress). No
    // simulator's progress goes past it, so an event a simulator sets for now, outside its
    // steps, still comes before anything that waits on it.
    std::optional<std::int64_t> wall_progress() const {
        if (!w.options_.rt_factor || !began) return std::nullopt;
        const double period = *w.options_.rt_factor * w.options_.time_resolution;
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - *began).count();
        return static_cast<std::int64_t>(std::ceil(elapsed / period));
    }

    // Real time, when nothing can step and nothing is in flight but some simulator has not
    // reached the end: waits for the wall clock's next step, or for an event set meanwhile.
    bool wait_for_wall_clock() {
        const auto wall = wall_progress();
        if (!wall) return false;
        bool unfinished = false;
        for (const auto& s : w.sims_)
            unfinished = unfinished || s->progress < end_of(*s);
        if (!unfinished || *wall >= until) return false;
        const double period = *w.options_.rt_factor * w.options_.time_resolution;
        const auto due =
            *began + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(static_cast<double>(*wall + 1) * period));
        (void)answer_arrived.wait_until(due);
        return true;
    }
    tiered_time end_of(const sim_state& s) const {
        return tiered_time::from_world_time(until, s.depth());
    }

    // Setup that needs the whole world: no cycle of zero delay, the triggering ancestors.
    void prepare() {
        std::vector<dataflow_edge> inputs;
        std::vector<dataflow_edge> trigger_edges;
        std::vector<std::string> names;
        for (auto& s : w.sims_) {
            names.push_back(s->sid);
            for (auto& [provider, delays] : s->input_delays) {
                for (const auto& e : delays.entries())
                    inputs.push_back({provider, s->index, e.delay});
            }
            for (auto& [port, consumers] : s->triggers) {
                for (auto& [consumer, delay] : consumers)
                    trigger_edges.push_back({s->index, consumer, delay});
            }
        }
        const auto cycle = zero_delay_cycle(w.sims_.size(), inputs);
        if (!cycle.empty()) {
            throw std::invalid_argument(
                "the dataflow has a cycle without delay: " + describe_path(cycle, names) +
                " (make one of its connections weak or time-shifted)");
        }
        for (auto& s : w.sims_) {
            map request;
            for (const auto& [eid, attrs] : s->output_request) {
                array wanted;
                for (const auto& a : attrs)
                    wanted.push_back(value(a));
                request.insert_or_assign(value(eid), value(std::move(wanted)));
            }
            s->get_data_request = value(std::move(request));
        }
        const auto ancestors = path_delays(w.sims_.size(), trigger_edges);
        for (std::size_t a = 0; a < ancestors.size(); ++a) {
            for (std::size_t s = 0; s < ancestors[a].size(); ++s) {
                if (ancestors[a][s]) at(s).triggering_ancestors.emplace_back(a, *ancestors[a][s]);
            }
        }
    }

    // The earliest anything can still happen at `s` (§4): its own next step, what its
    // triggering ancestors' next steps can cause, or the end.
    tiered_time progress_of(const sim_state& s) {
        tiered_time p = end_of(s);
        if (const tiered_time* own = earliest_step(s)) p = std::min(p, *own);
        for (const auto& [a, delays] : s.triggering_ancestors) {
            if (const tiered_time* anc = earliest_step(at(a)))
                p = std::min(p, delays.earliest(*anc));
        }
        // Within the wall clock's step, loops go on: only the time is held back.
        if (const auto wall = wall_progress(); wall && p.time() > *wall)
            p = tiered_time::from_world_time(*wall, s.depth());
        return p;
    }

    // The earliest step `s` is taking or will take: one in flight counts as not taken yet.
    static const tiered_time* earliest_step(const sim_state& s) {
        if (s.in_flight) return &*s.in_flight;
        return s.next_steps.empty() ? nullptr : &*s.next_steps.begin();
    }

    void advance_progress() {
        for (auto& s : w.sims_) {
            tiered_time p = progress_of(*s);
            if (s->steps > 0 && p < s->progress)
                simulation_error(fmt::format("simulator {} would progress backwards, from {} to {}",
                                             s->sid, s->progress.to_string(), p.to_string()));
            s->progress = std::move(p);
        }
    }

    // Whether `s` may take its next step now (§4: settled, and every wait satisfied).
    bool ready(const sim_state& s) {
        if (s.next_steps.empty() || s.in_flight) return false;
        const tiered_time& next = *s.next_steps.begin();
        if (!(next < end_of(s)) || !(next == s.progress)) return false;
        for (const auto& [provider, delays] : s.input_delays) {
            if (!(next < delays.earliest(at(provider).progress))) return false;
        }
        for (const auto& [consumer, adapt] : s.successors_to_wait_for) {
            if (at(consumer).progress < next + adapt) return false;
        }
        if (w.options_.lazy_stepping) {
            for (const auto& [consumer, adapt] : s.successors) {
                if (at(consumer).progress < next + adapt) return false;
            }
        }
        return true;
    }

    // The simulator to step next: of those ready, the one at the earliest world time, then the
    // first started (any order the waits allow gives the same graph and inputs).
    sim_state* pick() {
        sim_state* best = nullptr;
        for (auto& s : w.sims_) {
            if (!ready(*s)) continue;
            if (best == nullptr || s->next_steps.begin()->time() < best->next_steps.begin()->time())
                best = s.get();
        }
        return best;
    }

    // §5: set_data, remembered inputs, the timed buffer, then the pulled connections.
    value inputs_for(sim_state& s, const tiered_time& t) {
        if (s.set_data_inputs.empty()) return inputs_after_set_data(s, t, s.persistent_inputs);
        map in = std::move(s.set_data_inputs);
        s.set_data_inputs = map{};
        for (const auto& [eid, attrs] : s.persistent_inputs) {
            for (const auto& [attr, sources] : attrs.as_map()) {
                for (const auto& [source, v] : sources.as_map())
                    slot_of(in, eid.as_string(), attr.as_string())
                        .as_map()
                        .insert_or_assign(source, v);
            }
        }
        return inputs_after_set_data(s, t, std::move(in));
    }

    value inputs_after_set_data(sim_state& s, const tiered_time& t, map in) {
        auto& buffer = s.timed_input_buffer;
        std::sort(buffer.begin(), buffer.end(), [](const auto& a, const auto& b) {
            return std::tie(a.time, a.source_index, a.order) <
                   std::tie(b.time, b.source_index, b.order);
        });
        auto due = std::find_if(buffer.begin(), buffer.end(),
                                [&](const auto& b) { return b.time > t.time(); });
        for (auto it = buffer.begin(); it != due; ++it)
            slot_of(in, it->eid, it->attr).as_map().insert_or_assign(value(it->source), it->v);
        buffer.erase(buffer.begin(), due);
        for (const auto& p : s.pulled_inputs) {
            const sim_state& src = at(p.source);
            const value* v = nullptr;
            auto entry = src.outputs.upper_bound(t.time() - p.shift);
            if (entry != src.outputs.begin())
                v = lookup_of(std::prev(entry)->second, p.src_eid, p.src_attr);
            slot_of(in, p.dest_eid, p.dest_attr)
                .as_map()
                .insert_or_assign(value(src.full_id(p.src_eid)), v != nullptr ? *v : value());
        }
        remember_persistent(s.persistent_inputs, in);
        return value(std::move(in));
    }

    // Only keys that are there already: those are the persistent ones.
    static void remember_persistent(map& kept, const map& in) {
        for (std::size_t e = 0; e < kept.size(); ++e) {
            const value* new_attrs = in.find(kept.entry_at(e).first);
            if (new_attrs == nullptr) continue;
            map& attrs = kept.mapped_at(e).as_map();
            for (std::size_t a = 0; a < attrs.size(); ++a) {
                const value* new_sources = new_attrs->as_map().find(attrs.entry_at(a).first);
                if (new_sources == nullptr) continue;
                map& sources = attrs.mapped_at(a).as_map();
                for (std::size_t i = 0; i < sources.size(); ++i) {
                    if (const value* nv = new_sources->as_map().find(sources.entry_at(i).first))
                        sources.mapped_at(i) = *nv;
                }
            }
        }
    }

    // §6: how far the step may look ahead without missing an input.
    std::int64_t max_advance_of(const sim_state& s) {
        std::int64_t m = until + 1;
        for (const auto& [a, delays] : s.triggering_ancestors) {
            if (const tiered_time* anc = earliest_step(at(a)))
                m = std::min(m, delays.earliest(*anc).time());
        }
        if (!s.next_steps.empty()) m = std::min(m, s.next_steps.begin()->time());
        return m - 1;
    }

    // Whether a simulator other than `s` may step now (launching `s` changes no progress: its
    // step in flight counts as its next step did).
    bool another_ready(const sim_state& s) {
        for (const auto& other : w.sims_) {
            if (other.get() != &s && ready(*other)) return true;
        }
        return false;
    }

    // Sends the step at the simulator's next time (and asks for its outputs then): in a fiber
    // of its own for a simulator in another process, so that the master can go on, else here.
    // A step that nothing could overlap (no other in flight or ready) runs here too: the
    // master would only wait for it, and a fiber of its own costs two more switches.
    void launch(sim_state& s) {
        const tiered_time t = *s.next_steps.begin();
        s.next_steps.erase(s.next_steps.begin());
        for (std::size_t i = 1; i < t.depth(); ++i) {
            if (t.tiers()[i] >= w.options_.max_loop_iterations)
                simulation_error(fmt::format(
                    "simulator {} stepped more than {} times in one loop (now {}): an endless "
                    "loop? (or raise max_loop_iterations)",
                    s.sid, w.options_.max_loop_iterations, t.to_string()));
        }
        value inputs = inputs_for(s, t);
        const std::int64_t max_advance = max_advance_of(s);
        s.in_flight = t;
        if (w.options_.record_graph) {
            s.in_flight_node = graph.nodes.size();
            record(s, t, inputs, max_advance);
        }
        // (Progress is what advance_progress left: taking `s`'s step out of its queue above
        // changes no simulator's readiness before it is recomputed.)
        if (s.sim->suspends() && runtime::current() != nullptr &&
            (in_flight > 0 || another_ready(s))) {
            ++in_flight;
            spawn([this, &s, t, inputs = std::move(inputs), max_advance] {
                answered a{s.index, {}, {}, {}};
                try {
                    std::tie(a.next, a.data) = step_of(s, t, inputs, max_advance);
                } catch (...) {
                    a.error = std::current_exception();
                }
                answers.push_back(std::move(a));
                answer_arrived.notify_all();
            });
            return;
        }
        const auto [next, data] = call(t, [&] { return step_of(s, t, inputs, max_advance); });
        finish(s, next, data);
    }

    // The step's answer and, when the master needs the simulator's outputs, get_data's.
    static std::pair<value, value> step_of(sim_state& s, const tiered_time& t, const value& inputs,
                                           std::int64_t max_advance) {
        if (s.output_request.empty()) return {s.sim->step(t.time(), inputs, max_advance), value()};
        return s.sim->step_and_get_data(t.time(), inputs, max_advance, s.get_data_request);
    }

    // A failure names the step it happened in (the simulator names itself and the call).
    template <class F>
    static auto call(const tiered_time& t, F&& f) -> decltype(f()) {
        try {
            return f();
        } catch (const std::exception& e) {
            simulation_error(fmt::format("{} (the step at {})", e.what(), t.to_string()));
        }
    }

    // Waits for the next answer of a step in flight and takes it in.
    void take_answer() {
        while (answers.empty())
            answer_arrived.wait();
        answered a = std::move(answers.front());
        answers.pop_front();
        --in_flight;
        sim_state& s = at(a.sim);
        if (a.error) {
            const tiered_time t = *s.in_flight;
            call(t, [&]() -> value { std::rethrow_exception(a.error); });
        }
        finish(s, a.next, a.data);
    }

    // Waits for every step in flight, after a failure: their answers no longer count.
    void drain() noexcept {
        while (in_flight > 0) {
            while (answers.empty())
                answer_arrived.wait();
            answers.pop_front();
            --in_flight;
        }
    }

    void finish(sim_state& s, const value& next, const value& data) {
        const tiered_time t = *s.in_flight;
        s.in_flight.reset();
        s.last_step = t;
        if (w.options_.record_graph) {
            graph.nodes[s.in_flight_node].next_step = next;
            s.steps_done.push_back(t);
        }
        schedule_own(s, t, next);
        ++s.steps;
        ++steps;
        if (!s.output_request.empty()) outputs_of(s, t, data);
        for (const auto& o : s.observers)
            o.sink(t.time(), observed(o, data));
        if (w.options_.on_step) w.options_.on_step(t.time(), steps);
    }

    static std::vector<std::vector<value>> observed(const sim_state::observation& o,
                                                    const value& data) {
        std::vector<std::vector<value>> rows;
        rows.reserve(o.eids.size());
        for (const auto& eid : o.eids) {
            auto& row = rows.emplace_back();
            row.reserve(o.attrs.size());
            for (const auto& a : o.attrs) {
                const value* v = lookup_of(data, eid, a);
                row.push_back(v != nullptr ? *v : value());
            }
        }
        return rows;
    }

    void schedule_own(sim_state& s, const tiered_time& t, const value& next) {
        if (next.is_nil()) {
            if (s.type == sim_type::time_based)
                simulation_error(
                    fmt::format("simulator {} is time-based, but step({}) returned no "
                                "next step",
                                s.sid, t.time()));
            return;
        }
        if (next.get_if<std::int64_t>() == nullptr || next.as_int64() <= t.time())
            simulation_error(
                fmt::format("simulator {}: step({}) returned {}: the next step must "
                            "be an integer time later than the step's",
                            s.sid, t.time(), to_display_string(next)));
        if (next.as_int64() < until)
            s.next_steps.insert(tiered_time::from_world_time(next.as_int64(), s.depth()));
    }

    // §5: the outputs mosaik asked for, cached, pushed, and the steps they trigger.
    void outputs_of(sim_state& s, const tiered_time& t, const value& data) {
        if (!data.is_map())
            simulation_error("simulator " + s.sid + ": get_data answered no mapping");
        std::int64_t out_time = t.time();
        if (const value* at_time = data.as_map().find(value("time")))
            out_time = at_time->as_int64();
        if (out_time < t.time())
            simulation_error(
                fmt::format("simulator {}: output time {} is before its step's time {}", s.sid,
                            out_time, t.time()));
        const tiered_time out_tiered =
            out_time == t.time() ? t : tiered_time::from_world_time(out_time, s.depth());
        s.outputs[out_time] = data;
        forget_unreadable_outputs(s);
        for (const auto& [port, destinations] : s.output_to_push) {
            const value* v = lookup_of(data, port.first, port.second);
            if (v == nullptr) continue;
            for (const auto& d : destinations)
                at(d.dest).timed_input_buffer.push_back({out_time + d.shift, s.index, s.last_push++,
                                                         s.full_id(port.first), d.dest_eid,
                                                         d.dest_attr, *v});
        }
        for (const auto& [port, consumers] : s.triggers) {
            if (lookup_of(data, port.first, port.second) == nullptr) continue;
            for (const auto& [consumer, delay] : consumers)
                at(consumer).next_steps.insert(out_tiered + delay);
        }
    }

    // What no consumer can read any more: a consumer's steps come no earlier than its
    // progress, and read the latest output at or before that time minus the shift. So the
    // cache holds what a run's progress window needs, however long the run.
    void forget_unreadable_outputs(sim_state& s) {
        std::int64_t oldest_read = std::numeric_limits<std::int64_t>::max();
        for (const auto& [consumer, shift] : s.readers)
            oldest_read = std::min(oldest_read, at(consumer).progress.time() - shift);
        // An async consumer's get_data reads the cache as of its previous step.
        for (const auto& [consumer, adapt] : s.successors_to_wait_for) {
            if (const auto& last = at(consumer).last_step)
                oldest_read = std::min(oldest_read, last->time());
        }
        auto keep = s.outputs.upper_bound(oldest_read);
        if (keep != s.outputs.begin()) s.outputs.erase(s.outputs.begin(), std::prev(keep));
    }

    void record(const sim_state& s, const tiered_time& t, const value& inputs,
                std::int64_t max_advance) {
        step_record r{s.sid, t, inputs, max_advance, value(), graph.nodes.size()};
        // E2: from each provider whose data is among the inputs, its latest step that could
        // have provided it.
        for (const auto& [provider, delays] : s.input_delays) {
            const sim_state& p = at(provider);
            if (!has_input_from(inputs, p.sid) && !s.async_providers.contains(provider)) continue;
            for (auto it = p.steps_done.rbegin(); it != p.steps_done.rend(); ++it) {
                if (delays.earliest(*it) <= t) {
                    graph.edges.emplace_back(p.sid + "~" + it->to_string(), r.id());
                    break;
                }
            }
        }
        // E3: from each async consumer's latest step, once this simulator has stepped before.
        if (s.last_step) {
            for (const auto& [consumer, adapt] : s.successors_to_wait_for) {
                const sim_state& q = at(consumer);
                if (q.last_step)
                    graph.edges.emplace_back(q.sid + "~" + q.last_step->to_string(), r.id());
            }
        }
        graph.nodes.push_back(std::move(r));
    }

    static bool has_input_from(const value& inputs, const std::string& sid) {
        for (const auto& [eid, attrs] : inputs.as_map()) {
            for (const auto& [attr, sources] : attrs.as_map()) {
                for (const auto& [source, v] : sources.as_map()) {
                    if (source.as_string().starts_with(sid + ".")) return true;
                }
            }
        }
        return false;
    }

    // Real time: waits until the step at `t` is due, t * rt_factor * time_resolution after
    // `began`; returns how late it starts (0 when on time).
    double pace(std::chrono::steady_clock::time_point began, std::int64_t t) {
        const double period = *w.options_.rt_factor * w.options_.time_resolution;
        const auto due =
            began + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(t) * period));
        const auto now = std::chrono::steady_clock::now();
        if (now < due) {
            // Only the master's fiber waits: the simulators' requests are served meanwhile.
            if (runtime::current() != nullptr) {
                sim::sleep_until(due);
            } else {
                std::this_thread::sleep_until(due);
            }
            return 0;
        }
        const double late = std::chrono::duration<double>(now - due).count();
        if (w.options_.rt_strict && late >= period)
            simulation_error(
                fmt::format("the simulation is too slow for real time: the step at {} "
                            "started {:.3f} s late (rt_factor {}, rt_strict)",
                            t, late, *w.options_.rt_factor));
        return late;
    }

    // E1: from each step to the step it scheduled itself, where that one ran.
    void add_self_step_edges() {
        std::set<std::string> ran;
        for (const auto& n : graph.nodes)
            ran.insert(n.id());
        for (const auto& n : graph.nodes) {
            if (n.next_step.get_if<std::int64_t>() == nullptr) continue;
            const sim_state& s = w.find(n.sid);
            const std::string next =
                n.sid + "~" +
                tiered_time::from_world_time(n.next_step.as_int64(), s.depth()).to_string();
            if (ran.contains(next)) graph.edges.emplace_back(n.id(), next);
        }
    }
};

}  // namespace sim::mosaik

namespace sim::mosaik {

// A step of the caller's own at `time`, in real time only (as mosaik). During the caller's
// step it must come after that step; outside, no earlier than the caller's progress, which the
// wall clock holds back: nothing that waits on the caller has gone past it.
value world::set_event(sim_state& caller, std::int64_t time) {
    if (!options_.rt_factor)
        throw fault(
            "SimulationError",
            fmt::format("Simulator '{}' tried to set an event in non-real-time mode.", caller.sid));
    if (caller.in_flight ? time <= caller.in_flight->time() : time < caller.progress.time())
        throw fault(
            "ValueError",
            fmt::format("set_event({}) by {}: it is at {} already", time, caller.sid,
                        caller.in_flight ? caller.in_flight->time() + 1 : caller.progress.time()));
    if (time >= options_.until) {
        log::get("mosaik")->warn("an event that {} set at {} is after the end ({}): ignored",
                                 caller.sid, time, options_.until);
        return value();
    }
    caller.next_steps.insert(tiered_time::from_world_time(time, caller.depth()));
    if (running_ != nullptr) running_->answer_arrived.notify_all();
    return value();
}

execution_graph world::run() {
    if (ran_) throw std::logic_error("a world runs once");
    ran_ = true;
    run_state r{*this, options_.until};
    const auto stop_all = [this] {
        for (auto& s : sims_) {
            try {
                s->sim->stop();
            } catch (const std::exception&) {
                // Stopping the others matters more than how one of them failed to stop.
            }
        }
    };
    try {
        r.prepare();
        for (auto& s : sims_)
            s->sim->setup_done();
        const auto began = std::chrono::steady_clock::now();
        if (options_.rt_factor) r.began = began;
        running_ = &r;
        double lag_sum = 0;
        for (;;) {
            if (options_.stop != nullptr && options_.stop->load(std::memory_order_acquire)) {
                interrupted_ = true;
                break;
            }
            r.advance_progress();
            sim_state* next = r.pick();
            if (next == nullptr) {
                if (r.in_flight == 0 && !r.wait_for_wall_clock()) break;
                if (r.in_flight > 0) r.take_answer();
                continue;
            }
            if (options_.rt_factor) {
                const double lag = r.pace(began, next->next_steps.begin()->time());
                lag_sum += lag;
                ++lateness_.steps;
                lateness_.max_seconds = std::max(lateness_.max_seconds, lag);
            }
            r.launch(*next);
        }
        while (r.in_flight > 0)  // after a stop request
            r.take_answer();
        if (lateness_.steps > 0)
            lateness_.mean_seconds = lag_sum / static_cast<double>(lateness_.steps);
        std::vector<std::string> stuck;
        for (auto& s : sims_) {
            if (!s->next_steps.empty() && *s->next_steps.begin() < r.end_of(*s))
                stuck.push_back(s->sid + " at " + s->next_steps.begin()->to_string());
        }
        if (!stuck.empty() && !interrupted_)
            simulation_error(fmt::format("no simulator can step, but these still would: {}",
                                         fmt::join(stuck, ", ")));
        running_ = nullptr;
        if (options_.record_graph) r.add_self_step_edges();
    } catch (...) {
        running_ = nullptr;
        stop_all();
        for (auto& s : sims_) {
            if (s->in_flight) s->sim->cancel();
        }
        r.drain();
        throw;
    }
    stop_all();
    return std::move(r.graph);
}

}  // namespace sim::mosaik

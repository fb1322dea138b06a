#pragma once
// The recordings of a run: CSV or JSON-lines files of agents' observables (or of mosaik
// entities' attributes), one line per agent (or one reduced line) per step, flushed step by step so
// that a file always ends with a whole step.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sim/codec/codec.hpp>
#include <sim/codec/number.hpp>
#include <sim/codec/value.hpp>
#include <sim/scenario/scenario.hpp>

#include "scenario/hosts.hpp"
#include "scenario/plan.hpp"

namespace sim::detail {

/// A value as a CSV field: nil empty, strings quoted when they must be, others as displayed.
std::string csv_field(const value& v);

// One recording: a file and what goes in it.
class recording {
  public:
    recording(const scenario_record& spec, const std::filesystem::path& dir)
        : spec_(spec), jsonl_(spec.to.ends_with(".jsonl")), json_(make_codec("json")) {
        out_.open(dir / spec.to, std::ios::trunc);
        if (!out_) throw std::runtime_error("cannot write " + (dir / spec.to).string());
        if (!jsonl_) {
            out_ << "time";
            if (spec.reduce.empty()) out_ << "," << who();
            for (const auto& o : spec.observe)
                out_ << "," << (spec.reduce.empty() ? o : spec.reduce + "_" + o);
            out_ << "\n";
        }
    }
    const scenario_record& spec() const { return spec_; }

    // rows: per agent of the group, in order, its values of `observe`.
    void write(double t, const std::string& group, const std::vector<std::vector<value>>& rows) {
        write(t, rows, [&](std::size_t i) { return group + "/" + std::to_string(i); });
    }
    // rows: per entity, its values of `observe`; `names[i]` names row i. No time: the values
    // before the run (an empty field, null in JSON lines).
    void write(std::optional<double> t, const std::vector<std::string>& names,
               const std::vector<std::vector<value>>& rows) {
        write(t, rows, [&](std::size_t i) { return names[i]; });
    }
    void flush() { out_.flush(); }

  private:
    // The column that names a row's agent or entity.
    const char* who() const { return spec_.entities.empty() ? "agent" : "entity"; }

    template <class Name>
    void write(std::optional<double> t, const std::vector<std::vector<value>>& rows, Name name) {
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
                line(t, name(i), rows[i]);
            }
        }
    }

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

    void line(std::optional<double> t, const std::string& agent, const std::vector<value>& values) {
        if (jsonl_) {
            map m;
            m.insert_or_assign(value("time"), t ? number_value(*t) : value());
            if (!agent.empty()) m.insert_or_assign(value(who()), value(agent));
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
        if (t) out_ << number_text(*t);
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

/// Samples every recording at time `t`: asks each host for the observables of its agents of
/// the recording's group, and writes them in the group's order.
void sample(std::vector<std::unique_ptr<recording>>& recordings, const scenario& s,
            const placement& plan, std::vector<std::unique_ptr<host>>& hosts, double t);

}  // namespace sim::detail

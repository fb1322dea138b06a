#include "scenario/summary.hpp"

#include <sys/resource.h>

#include <string>

#include <fmt/format.h>

#include <sim/codec/codec.hpp>
#include <sim/scenario/runner.hpp>

namespace sim {

namespace {

std::string json_string(const std::string& s) {
    auto codec = make_codec("json");
    auto b = codec->encode(value(s));
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace

std::string run_summary::to_json() const {
    std::string simulators;
    for (const auto& [sid, n] : simulator_steps)
        simulators += fmt::format("{}\n    {}: {{\"steps\": {}}}", simulators.empty() ? "" : ",",
                                  json_string(sid), n);
    if (!simulators.empty()) simulators = ",\n  \"simulators\": {" + simulators + "\n  }";
    return fmt::format(
        "{{\n  \"scenario\": {},\n  \"seed\": {},\n  \"sim_time\": {},\n  \"steps\": {},\n"
        "  \"messages\": {},\n  \"wakeups\": {},\n  \"agents\": {},\n  \"wall_seconds\": {:.3f},\n"
        "  \"steps_per_second\": {:.1f},\n  \"messages_per_second\": {:.1f},\n"
        "  \"events_per_second\": {:.1f},\n  \"peak_rss_bytes\": {},\n  \"interrupted\": {},\n"
        "  \"realtime\": {},\n  \"max_lag_seconds\": {:.6f},\n  \"mean_lag_seconds\": "
        "{:.6f}{}\n}}\n",
        json_string(scenario), seed, sim_time, steps, messages, wakeups, agents, wall_seconds,
        wall_seconds > 0 ? static_cast<double>(steps) / wall_seconds : 0.0,
        wall_seconds > 0 ? static_cast<double>(messages) / wall_seconds : 0.0,
        wall_seconds > 0 ? static_cast<double>(messages + wakeups) / wall_seconds : 0.0,
        peak_rss_bytes, interrupted ? "true" : "false", realtime ? "true" : "false", max_lag,
        mean_lag, simulators);
}

std::size_t detail::peak_rss() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<std::size_t>(u.ru_maxrss) * 1024;
}

}  // namespace sim

#include <sim/core/log.hpp>

#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace sim::log {

namespace {

struct registry {
    std::mutex mutex;
    std::shared_ptr<spdlog::sinks::sink> sink =
        std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
    std::map<std::string, spdlog::level::level_enum, std::less<>> levels;  // per component
    spdlog::level::level_enum fallback = spdlog::level::info;
    bool configured = false;
};

registry& reg() {
    static registry r;
    return r;
}

spdlog::level::level_enum parse_level(std::string_view text, std::string_view item) {
    auto level = spdlog::level::from_str(std::string(text));
    // from_str answers `off` for anything it does not know: accept "off" only when written.
    if (level == spdlog::level::off && text != "off") {
        throw std::invalid_argument("SIM_LOG: unknown level \"" + std::string(text) + "\" in \"" +
                                    std::string(item) +
                                    "\" (trace, debug, info, warn, error, critical, off)");
    }
    return level;
}

// A spec replaces the whole configuration.
void apply(registry& r, std::string_view spec) {
    spdlog::level::level_enum fallback = spdlog::level::info;
    std::map<std::string, spdlog::level::level_enum, std::less<>> levels;
    std::size_t pos = 0;
    while (pos <= spec.size()) {
        std::size_t comma = spec.find(',', pos);
        std::string_view item =
            spec.substr(pos, comma == std::string_view::npos ? spec.npos : comma - pos);
        pos = comma == std::string_view::npos ? spec.size() + 1 : comma + 1;
        if (item.empty()) continue;
        std::size_t eq = item.find('=');
        if (eq == std::string_view::npos) {
            fallback = parse_level(item, item);
        } else {
            levels[std::string(item.substr(0, eq))] = parse_level(item.substr(eq + 1), item);
        }
    }
    r.fallback = fallback;
    r.levels = std::move(levels);
    for (auto& [name, logger] : r.loggers) {
        auto it = r.levels.find(name);
        logger->set_level(it != r.levels.end() ? it->second : r.fallback);
    }
}

void configure_from_environment(registry& r) {
    if (r.configured) return;
    r.configured = true;
    if (const char* env = std::getenv("SIM_LOG"); env != nullptr && *env != '\0') {
        try {
            apply(r, env);
        } catch (const std::invalid_argument& e) {
            // A typo in an environment variable must not stop the program: say so and go on.
            r.sink->log(spdlog::details::log_msg("sim", spdlog::level::warn, e.what()));
        }
    }
}

}  // namespace

std::shared_ptr<spdlog::logger> get(std::string_view component) {
    registry& r = reg();
    std::lock_guard lock(r.mutex);
    configure_from_environment(r);
    if (auto it = r.loggers.find(component); it != r.loggers.end()) return it->second;
    auto logger = std::make_shared<spdlog::logger>("sim." + std::string(component), r.sink);
    logger->set_pattern("[%H:%M:%S.%f] [%n] [%l] %v");
    auto level = r.levels.find(component);
    logger->set_level(level != r.levels.end() ? level->second : r.fallback);
    r.loggers.emplace(std::string(component), logger);
    return logger;
}

void set_level(std::string_view component, spdlog::level::level_enum level) {
    registry& r = reg();
    std::lock_guard lock(r.mutex);
    configure_from_environment(r);
    if (component.empty()) {
        r.fallback = level;
        r.levels.clear();
        for (auto& [name, logger] : r.loggers)
            logger->set_level(level);
        return;
    }
    r.levels[std::string(component)] = level;
    if (auto it = r.loggers.find(component); it != r.loggers.end()) it->second->set_level(level);
}

void configure(std::string_view spec) {
    registry& r = reg();
    std::lock_guard lock(r.mutex);
    r.configured = true;
    apply(r, spec);
}

}  // namespace sim::log

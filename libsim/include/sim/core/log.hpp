#pragma once
/// Logging: one spdlog logger per component, named `sim.<component>`.
///
/// Components: transport, channel, rpc, agent, clock (and any other name). The level is `info`
/// unless the environment variable SIM_LOG or `sim::log::configure` says otherwise:
/// `SIM_LOG=debug` sets every component, `SIM_LOG=channel=trace,info` sets the channel to trace
/// and the rest to info. At trace level the channel logs every frame as decoded JSON.

#include <memory>
#include <string_view>

#include <spdlog/spdlog.h>

namespace sim::log {

/// The logger of a component, created on first use. Thread-safe.
std::shared_ptr<spdlog::logger> get(std::string_view component);

/// Sets the level of one component, or of every component (present and future) when
/// `component` is empty.
void set_level(std::string_view component, spdlog::level::level_enum level);

/// Applies a spec in SIM_LOG's syntax: comma-separated `level` or `component=level` items.
/// Throws `std::invalid_argument` naming the bad item.
void configure(std::string_view spec);

}  // namespace sim::log

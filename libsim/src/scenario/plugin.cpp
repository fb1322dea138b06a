#include <sim/scenario/plugin.hpp>

#include <dlfcn.h>

#include <stdexcept>

#include <sim/mosaik/plugin.hpp>

#include "scenario/cosim.hpp"

namespace sim {

namespace {

// `kind` names the plugin in messages ("agent plugin").
void* open_library(const std::string& path, const char* kind) {
    // A path without a slash would be searched for in the system's library path, not here.
    const std::string file = path.find('/') == std::string::npos ? "./" + path : path;
    void* lib = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
        const char* why = ::dlerror();
        throw std::runtime_error(std::string("cannot load ") + kind + " " + path + ": " +
                                 (why != nullptr ? why : "unknown error"));
    }
    // The library stays loaded for the life of the process: its code lives there.
    return lib;
}

void check_abi(const std::string& path, const char* kind, const int* abi, int ours) {
    if (*abi != ours) {
        throw std::runtime_error(
            std::string(kind) + " " + path + " was built against another libsim (plugin ABI " +
            std::to_string(*abi) + ", this sim-runner " + std::to_string(ours) + "): rebuild it");
    }
}

}  // namespace

void load_agent_plugin(const std::string& path, agent_registry& types) {
    void* lib = open_library(path, "agent plugin");
    const auto* abi = static_cast<const int*>(::dlsym(lib, "sim_agent_plugin_abi"));
    auto* entry = reinterpret_cast<void (*)(agent_registry&)>(::dlsym(lib, "sim_register_agents"));
    if (abi == nullptr || entry == nullptr) {
        throw std::runtime_error(
            "agent plugin " + path +
            " has no entry point: define it with SIM_AGENT_PLUGIN(types) { ... }");
    }
    check_abi(path, "agent plugin", abi, agent_plugin_abi);
    try {
        entry(types);
    } catch (const std::exception& e) {
        throw std::runtime_error("agent plugin " + path +
                                 " failed to register its agents: " + e.what());
    }
}

void detail::load_simulator_plugin(const std::string& path, mosaik::simulator_registry& sims) {
    void* lib = open_library(path, "simulator plugin");
    const auto* abi = static_cast<const int*>(::dlsym(lib, "sim_mosaik_plugin_abi"));
    auto* entry = reinterpret_cast<void (*)(mosaik::simulator_registry&)>(
        ::dlsym(lib, "sim_register_simulators"));
    if (abi == nullptr || entry == nullptr) {
        throw std::runtime_error(
            "simulator plugin " + path +
            " has no entry point: define it with SIM_MOSAIK_PLUGIN(sims) { ... }");
    }
    check_abi(path, "simulator plugin", abi, mosaik::simulator_plugin_abi);
    try {
        entry(sims);
    } catch (const std::exception& e) {
        throw std::runtime_error("simulator plugin " + path +
                                 " failed to register its simulators: " + e.what());
    }
}

}  // namespace sim

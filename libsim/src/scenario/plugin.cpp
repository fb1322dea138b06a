#include <sim/scenario/plugin.hpp>

#include <dlfcn.h>

#include <stdexcept>

namespace sim {

void load_agent_plugin(const std::string& path, agent_registry& types) {
    // A path without a slash would be searched for in the system's library path, not here.
    const std::string file = path.find('/') == std::string::npos ? "./" + path : path;
    void* lib = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
        const char* why = ::dlerror();
        throw std::runtime_error("cannot load agent plugin " + path + ": " +
                                 (why != nullptr ? why : "unknown error"));
    }
    // The library stays loaded for the life of the process: its agents' code lives there.
    const auto* abi = static_cast<const int*>(::dlsym(lib, "sim_agent_plugin_abi"));
    auto* entry = reinterpret_cast<void (*)(agent_registry&)>(::dlsym(lib, "sim_register_agents"));
    if (abi == nullptr || entry == nullptr) {
        throw std::runtime_error(
            "agent plugin " + path +
            " has no entry point: define it with SIM_AGENT_PLUGIN(types) { ... }");
    }
    if (*abi != agent_plugin_abi) {
        throw std::runtime_error("agent plugin " + path +
                                 " was built against another libsim (plugin ABI " +
                                 std::to_string(*abi) + ", this sim-runner " +
                                 std::to_string(agent_plugin_abi) + "): rebuild it");
    }
    try {
        entry(types);
    } catch (const std::exception& e) {
        throw std::runtime_error("agent plugin " + path +
                                 " failed to register its agents: " + e.what());
    }
}

}  // namespace sim

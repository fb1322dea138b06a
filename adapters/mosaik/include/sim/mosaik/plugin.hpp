#pragma once
/// C++ mosaik simulators in a shared library, for `sim-runner`'s master to run in its own
/// process (a scenario's `sim_config: {Name: {plugin: libmysims.so, simulator: Name}}`;
/// docs/cosim.md): the library registers its simulators by name with SIM_MOSAIK_PLUGIN.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <sim/mosaik/simulator.hpp>

namespace sim::mosaik {

/// Changes when the layout of what a plugin and sim-runner share changes; a plugin built
/// against another libsim is refused with a message instead of crashing.
inline constexpr int simulator_plugin_abi = 1;

/// Simulator types by name.
class simulator_registry {
  public:
    using factory = std::function<std::unique_ptr<simulator>()>;

    /// Registers `T` (default-constructible) as `name`; a second registration of a name
    /// throws `std::invalid_argument`.
    template <class T>
    void add(std::string name) {
        add(std::move(name), [] { return std::unique_ptr<simulator>(new T()); });
    }
    void add(std::string name, factory make);

    bool contains(const std::string& name) const { return factories_.contains(name); }
    /// A new simulator of type `name`; throws `std::invalid_argument` naming the types there
    /// are when there is none of that name.
    std::unique_ptr<simulator> make(const std::string& name) const;
    std::vector<std::string> names() const;

  private:
    std::map<std::string, factory> factories_;
};

}  // namespace sim::mosaik

/// Defines a plugin's entry point:
///
///     SIM_MOSAIK_PLUGIN(sims) {
///         sims.add<example_sim>("ExampleSim");
///     }
#define SIM_MOSAIK_PLUGIN(sims)                                                 \
    extern "C" [[gnu::visibility("default")]] const int sim_mosaik_plugin_abi = \
        ::sim::mosaik::simulator_plugin_abi;                                    \
    extern "C" [[gnu::visibility("default")]] void sim_register_simulators(     \
        ::sim::mosaik::simulator_registry& sims)

// An include upwards, and a dependency that only the scenario layer may use.
#include <sim/scenario/runner.hpp>

#include <yaml-cpp/yaml.h>

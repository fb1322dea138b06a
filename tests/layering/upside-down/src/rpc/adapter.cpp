// A layer below the scenario layer may not use the mosaik adapter.
#include <sim/mosaik/world.hpp>

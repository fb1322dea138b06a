// A private header of another layer.
#include "codec/float_repr.hpp"

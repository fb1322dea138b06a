#pragma once
// A public header that includes a private one.
#include "rpc/dispatch.hpp"

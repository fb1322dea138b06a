#pragma once
// A transport that knows the channel above it: the check must refuse it.
#include <sim/channel/channel.hpp>

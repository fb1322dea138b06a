#include <sim/runtime/sleep.hpp>

#include <stdexcept>

#include <sim/core/error.hpp>
#include <sim/runtime/runtime.hpp>

namespace sim {

void sleep_until(std::chrono::steady_clock::time_point t) {
    runtime* rt = runtime::current();
    if (rt == nullptr) throw std::logic_error("sim::sleep: this thread runs no sim::runtime");
    // A stop request ends the sleep: a fiber asleep for an hour would otherwise hold up run().
    if (rt->wait_for_stop_request(t))
        throw cancelled("the sleep was called off: runtime " + rt->options().name + " is stopping");
}

void sleep_for(std::chrono::steady_clock::duration d) {
    sleep_until(std::chrono::steady_clock::now() + d);
}

}  // namespace sim

#include <sim/agent/manager.hpp>

#include <sim/core/error.hpp>

namespace sim {

manager::manager(sim::container& c, const agent_registry& types) : agent(c), types_(&types) {
    router().expose_raw("spawn", [this](rpc::call_arguments call) -> value {
        busy_guard guard(this);
        if (call.args.empty() || !call.args[0].is_string()) {
            throw type_error("spawn() needs the agent type's name as its first argument");
        }
        std::string type = call.args[0].as_string();
        array rest(std::make_move_iterator(call.args.begin() + 1),
                   std::make_move_iterator(call.args.end()));
        agent& made = types_->spawn(container(), type, std::move(rest), std::move(call.kwargs));
        return value(array{made.ref(), value(made.address())});
    });
    expose(
        "set_time", [this](double t) { container().virtual_clock().set_time(t); }, arg("time"));
    // As aiomas' Manager.stop ends the container's process: the runtime's stop ends run() and
    // sim::wait_for_stop, and closes the connections once queued frames (this reply) are out.
    expose("stop", [this] {
        container().stop();
        container().runtime().stop();
    });
}

}  // namespace sim

// A process as a user writes one: an RPC server and a container with a manager, serving until it
// is told to stop (SIGINT, SIGTERM, or the manager's stop). It prints
//   listening <server URL> <container base URL>
// then, once told, "stopping <signal number or 0>", and exits 0 after everything has closed.

#include <iostream>

#include <sim/sim.hpp>

int main() {
    sim::runtime rt;
    rt.run([] {
        sim::rpc::router root;
        root.expose("echo", [](std::string s) { return s; });
        // Never answers by itself: a call in flight when the process is told to stop.
        root.expose("wait", [] { sim::sleep_for(std::chrono::hours(1)); });
        auto server = sim::rpc::start_server("tcp://127.0.0.1:0", root);
        sim::agent_registry types;
        sim::container agents("tcp://127.0.0.1:0");
        agents.spawn<sim::manager>(types);
        std::cout << "listening " << server.local_address().to_string() << " " << agents.base_url()
                  << std::endl;
        const int signal = sim::wait_for_stop();
        std::cout << "stopping " << signal << std::endl;
    });
    return 0;
}

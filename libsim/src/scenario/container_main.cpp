#include <sim/scenario/container_main.hpp>

#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>

#include <sim/agent/manager.hpp>
#include <sim/core/log.hpp>

#include "scenario/runner_service.hpp"

namespace sim {

int container_main(int argc, char** argv, const agent_registry& types) {
    std::signal(SIGPIPE, SIG_IGN);
    std::string address = "tcp://127.0.0.1:0";
    std::string start;
    double init_time = 0;
    container_options options;
    CLI::App app{"A libsim container whose manager agent (id 0) makes agents on request.", argv[0]};
    app.add_option("--address", address,
                   "where to listen: tcp://host:port, ipc://[path] or local://name")
        ->capture_default_str();
    app.add_option("--name", options.name, "the container's name (default: its base URL)");
    app.add_option("--codec", options.channel.codec, "json, msgpack, msgpack-blosc or msgpack-lz4")
        ->capture_default_str();
    auto* virtual_opt = app.add_option(
        "--virtual", start, "virtual time starting at this ISO 8601 date (default: real time)");
    app.add_option("--init-time", init_time, "the virtual clock's first time")->needs(virtual_opt);
    app.add_option("--seed", options.seed, "the seed of every agent's random numbers")
        ->capture_default_str();
    app.add_flag("--coordinated", options.coordinated,
                 "stepped by a sim::coordinator with other containers")
        ->needs(virtual_opt);
    bool hold_starts = false;
    app.add_flag("--hold-starts", hold_starts,
                 "agents' own fibers wait until container/release_starts is called (a scenario "
                 "runner wires all agents first)");
    int parent = 0;
    app.add_option("--parent", parent,
                   "the process id of whoever started it: the container ends when that process "
                   "does, however it ends (no orphan survives a killed runner)");
    std::string types_list;
    for (const auto& t : types.types())
        types_list += (types_list.empty() ? "" : ", ") + t;
    app.footer("Agent types: " + (types_list.empty() ? std::string("none") : types_list) +
               "\nLogging: SIM_LOG=debug (or info, warn, ...).");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (parent > 0) {
        // SIGKILL: nobody waits for a graceful end any more, and a container whose thread is
        // busy would not handle a catchable signal.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) return 1;  // the parent ended before the lifeline was set
    }
    if (virtual_opt->count() > 0) options.clock = virtual_time{start, init_time};
    try {
        container c(address, options);
        c.spawn<manager>(types);
        detail::runner_service serves_runner(c);  // a scenario runner drives this process
        if (hold_starts) c.hold_starts();
        // Signals arrive as I/O on the container's thread, where stopping is safe.
        boost::asio::signal_set signals(c.runtime().io(), SIGINT, SIGTERM);
        signals.async_wait([&c](const boost::system::error_code& ec, int) {
            if (!ec) c.stop();
        });
        std::cout << "listening " << c.base_url() << std::endl;
        c.run();
        signals.cancel();
    } catch (const std::exception& e) {
        std::cerr << argv[0] << ": " << e.what() << "\n";
        return 1;
    }
    return 0;
}

}  // namespace sim

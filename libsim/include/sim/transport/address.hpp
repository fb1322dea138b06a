#pragma once
/// Addresses as aiomas writes them (design.md §6).

#include <cstdint>
#include <string>
#include <string_view>

namespace sim {

/// `tcp://host:port`, `ipc://[path]` (a Unix domain socket) or `local://name` (the in-process
/// transport), optionally followed by `/<agent-id>`. TLS is a property of a connection, not a
/// scheme. IPv6 hosts are written in brackets: `tcp://[::1]:5555/0`.
struct address {
    enum class scheme { tcp, ipc, local };

    scheme kind = scheme::tcp;
    std::string host;        ///< tcp
    std::uint16_t port = 0;  ///< tcp; 0 asks the system for a free port when listening
    std::string path;        ///< ipc
    std::string name;        ///< local
    std::string agent;       ///< what follows the address, "" when nothing does

    /// Throws `std::invalid_argument` saying what is wrong and what was expected.
    static address parse(std::string_view url);
    static address tcp(std::string host, std::uint16_t port) {
        return {scheme::tcp, std::move(host), port, {}, {}, {}};
    }
    static address ipc(std::string path) { return {scheme::ipc, {}, 0, std::move(path), {}, {}}; }
    static address local(std::string name) {
        return {scheme::local, {}, 0, {}, std::move(name), {}};
    }

    /// The address without the agent: `tcp://127.0.0.1:5555`, `ipc://[/tmp/s]`, `local://a`.
    std::string to_string() const;
    /// The URL of an agent at this address: `tcp://127.0.0.1:5555/3`.
    std::string url(std::string_view agent_id) const;

    friend bool operator==(const address&, const address&) = default;
};

}  // namespace sim

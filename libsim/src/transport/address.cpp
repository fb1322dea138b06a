#include <sim/transport/address.hpp>

#include <charconv>
#include <stdexcept>

namespace sim {

namespace {

[[noreturn]] void invalid(std::string_view url, std::string_view why) {
    throw std::invalid_argument("invalid address \"" + std::string(url) +
                                "\": " + std::string(why) +
                                " (expected tcp://host:port, ipc://[path] or local://name, each "
                                "optionally followed by /agent-id)");
}

// What follows the address proper: "" or "/agent" (a trailing "/" alone means no agent).
std::string agent_part(std::string_view url, std::string_view rest) {
    if (rest.empty() || rest == "/") return {};
    if (rest[0] != '/') invalid(url, "unexpected \"" + std::string(rest) + "\"");
    rest.remove_prefix(1);
    if (rest.find('/') != std::string_view::npos) invalid(url, "an agent id contains no '/'");
    return std::string(rest);
}

}  // namespace

address address::parse(std::string_view url) {
    address a;
    std::size_t sep = url.find("://");
    if (sep == std::string_view::npos) invalid(url, "no scheme");
    std::string_view scheme_name = url.substr(0, sep);
    std::string_view rest = url.substr(sep + 3);

    if (scheme_name == "tcp") {
        a.kind = scheme::tcp;
        std::size_t host_end;
        if (!rest.empty() && rest[0] == '[') {
            host_end = rest.find(']');
            if (host_end == std::string_view::npos) invalid(url, "unclosed '[' in the host");
            a.host = std::string(rest.substr(1, host_end - 1));
            ++host_end;
        } else {
            host_end = rest.find(':');
            if (host_end == std::string_view::npos) invalid(url, "no port");
            a.host = std::string(rest.substr(0, host_end));
        }
        if (a.host.empty()) invalid(url, "empty host");
        if (host_end >= rest.size() || rest[host_end] != ':') invalid(url, "no port");
        rest.remove_prefix(host_end + 1);
        std::size_t port_end = rest.find('/');
        std::string_view port = rest.substr(0, port_end);
        unsigned value = 0;
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (port.empty() || ec != std::errc() || p != port.data() + port.size() || value > 65535) {
            invalid(url, "the port must be a number from 0 to 65535");
        }
        a.port = static_cast<std::uint16_t>(value);
        a.agent = agent_part(url, port_end == std::string_view::npos ? "" : rest.substr(port_end));
    } else if (scheme_name == "ipc") {
        a.kind = scheme::ipc;
        if (rest.empty() || rest[0] != '[')
            invalid(url, "the socket path goes in brackets: ipc://[path]");
        std::size_t close = rest.find(']');
        if (close == std::string_view::npos) invalid(url, "unclosed '[' in the path");
        a.path = std::string(rest.substr(1, close - 1));
        if (a.path.empty()) invalid(url, "empty socket path");
        a.agent = agent_part(url, rest.substr(close + 1));
    } else if (scheme_name == "local") {
        a.kind = scheme::local;
        std::size_t slash = rest.find('/');
        a.name = std::string(rest.substr(0, slash));
        if (a.name.empty()) invalid(url, "empty name");
        a.agent = agent_part(url, slash == std::string_view::npos ? "" : rest.substr(slash));
    } else {
        invalid(url, "unknown scheme \"" + std::string(scheme_name) + "\"");
    }
    return a;
}

std::string address::to_string() const {
    switch (kind) {
        case scheme::tcp:
            if (host.find(':') != std::string::npos)
                return "tcp://[" + host + "]:" + std::to_string(port);
            return "tcp://" + host + ":" + std::to_string(port);
        case scheme::ipc:
            return "ipc://[" + path + "]";
        case scheme::local:
            return "local://" + name;
    }
    return {};
}

std::string address::url(std::string_view agent_id) const {
    return to_string() + "/" + std::string(agent_id);
}

}  // namespace sim

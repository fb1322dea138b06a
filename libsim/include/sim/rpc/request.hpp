#pragma once
/// The content of an RPC request, `[path, args, kwargs]` (aiomas-protocol.md §3): the one encoder
/// and the one validating decoder, for every side that builds or reads requests (connections,
/// sim-call, the mosaik adapter, coordinated containers).

#include <optional>
#include <string>

#include <sim/codec/value.hpp>

namespace sim::rpc {

/// The parts of a request's content, referring into it.
struct request_view {
    const std::string& path;
    const array& args;
    const map& kwargs;
};

/// As `request_view`, for a content the caller may take arguments from.
struct request_ref {
    const std::string& path;
    array& args;
    map& kwargs;
};

/// `[path, args, kwargs]`, as aiomas' proxies send it.
[[nodiscard]] value make_request(std::string path, array args = {}, map kwargs = {});

/// The parts of `content` if it is a request (an array of a string, an array and a map), else
/// nothing. Never throws: for looking at messages that may be anything.
[[nodiscard]] std::optional<request_view> as_request(const value& content) noexcept;

/// The parts of `content`; throws `sim::type_error` ("a request is [path, args, kwargs] (a
/// string, an array, a map), not ...") when it is not a request.
[[nodiscard]] request_view parse_request(const value& content);
[[nodiscard]] request_ref parse_request(value& content);

}  // namespace sim::rpc

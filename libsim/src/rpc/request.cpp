#include <sim/rpc/request.hpp>

#include <utility>

#include <sim/core/error.hpp>

namespace sim::rpc {

value make_request(std::string path, array args, map kwargs) {
    array content;
    content.reserve(3);
    content.emplace_back(std::move(path));
    content.emplace_back(std::move(args));
    content.emplace_back(std::move(kwargs));
    return value(std::move(content));
}

std::optional<request_view> as_request(const value& content) noexcept {
    const array* parts = content.get_if<array>();
    if (parts == nullptr || parts->size() != 3) return std::nullopt;
    const auto* path = (*parts)[0].get_if<std::string>();
    const auto* args = (*parts)[1].get_if<array>();
    const auto* kwargs = (*parts)[2].get_if<map>();
    if (path == nullptr || args == nullptr || kwargs == nullptr) return std::nullopt;
    return request_view{*path, *args, *kwargs};
}

request_view parse_request(const value& content) {
    if (auto r = as_request(content)) return *r;
    throw type_error("a request is [path, args, kwargs] (a string, an array, a map), not " +
                     to_display_string(content));
}

request_ref parse_request(value& content) {
    const request_view r = parse_request(std::as_const(content));
    // The same objects, reached through the non-const content this time.
    array& parts = *content.get_if<array>();
    return {r.path, *parts[1].get_if<array>(), *parts[2].get_if<map>()};
}

}  // namespace sim::rpc

#include <sim/mosaik/protocol.hpp>

#include <string>

#include <sim/core/error.hpp>

namespace sim::mosaik {

namespace {

[[noreturn]] void throw_failure(const channel& ch, const value& content) {
    const std::string* text = content.get_if<std::string>();
    if (text != nullptr) throw remote_error(ch.peer(), *text);
    const array* parts = content.get_if<array>();
    if (parts != nullptr && parts->size() >= 2 && (*parts)[0].is_string() &&
        (*parts)[1].is_string()) {
        std::string tb;
        for (std::size_t i = 2; i < parts->size(); ++i) {
            if ((*parts)[i].is_string() && !(*parts)[i].as_string().empty())
                tb += (*parts)[i].as_string() + "\n";
        }
        tb += (*parts)[0].as_string() + ": " + (*parts)[1].as_string() + "\n";
        throw remote_error(ch.peer(), tb);
    }
    throw remote_error(ch.peer(), to_display_string(content));
}

}  // namespace

value send(channel& ch, const value& request, deadline until) {
    channel::reply r = ch.exchange(request, until);
    if (r.type != message_type::result) throw_failure(ch, r.content);
    return std::move(r.content);
}

value send(channel& ch, const value& request) {
    return send(ch, request, deadline(ch.options().default_timeout));
}

value failure_reply(const std::exception& e) {
    const auto* f = dynamic_cast<const fault*>(&e);
    return value(array{value(exception_type_name(e)), value(e.what()),
                       value(f != nullptr ? f->detail() : std::string())});
}

}  // namespace sim::mosaik

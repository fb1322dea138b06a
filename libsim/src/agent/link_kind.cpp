#include "agent/link_kind.hpp"

#include <sim/rpc/request.hpp>

namespace sim::detail {

link_verdict classify_link(const message& m, bool outgoing) {
    link_verdict v;
    if (outgoing) {
        // Our hello's answer: [name, coordinated]. Nothing can come before it.
        if (m.type == message_type::result && m.id == value(0)) {
            const array* a = m.content.get_if<array>();
            if (a != nullptr && a->size() == 2 && (*a)[0].is_string() && (*a)[1] == value(true)) {
                v.k = link_verdict::kind::peer;
                v.peer_name = (*a)[0].as_string();
            }
        }
        return v;
    }
    if (m.type != message_type::request) return v;
    const auto request = rpc::as_request(m.content);
    if (!request) return v;
    if (request->path == "container/hello") {
        const array& args = request->args;
        if (args.size() == 2 && args[0].is_string() && args[1].is_string()) {
            v.k = link_verdict::kind::peer;
            v.peer_name = args[0].as_string();
            v.url = args[1].as_string();
            v.hello = true;
        }
        return v;
    }
    if (request->path.starts_with("clock/")) v.k = link_verdict::kind::control;
    return v;
}

}  // namespace sim::detail

#pragma once
// What the first message on a coordinated container's link says about the other side
// (docs/step-protocol.md): a coordinated peer (its `container/hello`, or the answer to ours), a
// coordinator (it calls `clock/...`), or anything else, foreign to the coordination.

#include <string>

#include <sim/channel/message.hpp>

namespace sim::detail {

struct link_verdict {
    enum class kind { peer, control, foreign };
    kind k = kind::foreign;
    std::string peer_name;  // for a peer: its container name
    std::string url;        // for a peer that dialed us: the base URL it dialed
    bool hello = false;     // the message is the peer's hello, to be delivered at once
};

/// The verdict on a link from its first held message; `outgoing`: this side opened it (and its
/// first request was the hello, id 0).
link_verdict classify_link(const message& first, bool outgoing);

}  // namespace sim::detail

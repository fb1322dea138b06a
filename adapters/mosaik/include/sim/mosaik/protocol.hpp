#pragma once
/// mosaik's conventions on the wire (mosaik-api.md), beside aiomas' framing and messages: a
/// request is `[name, args, kwargs]` as in aiomas, but a failure is `[type, message, detail]`,
/// not a traceback's text. Both sides of the adapter (a simulator answering a master, and the
/// calls it makes back) speak through these.

#include <exception>

#include <sim/channel/channel.hpp>
#include <sim/codec/value.hpp>
#include <sim/core/deadline.hpp>

namespace sim::mosaik {

/// Sends a request to a mosaik peer and returns its result. A failure reply becomes a
/// `sim::remote_error` whose traceback is the detail lines, then `type: message` (the last line
/// of a Python traceback, so that `type()` and `message()` are mosaik's); other errors as
/// `channel::send`.
value send(channel& ch, const value& request, deadline until);
value send(channel& ch, const value& request);

/// The failure reply for `e`: `[type, message, detail]`, the type as `sim::exception_type_name`
/// gives it (a `failure`'s own), the detail a `failure`'s (or empty).
value failure_reply(const std::exception& e);

}  // namespace sim::mosaik

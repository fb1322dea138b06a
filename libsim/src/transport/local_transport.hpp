#pragma once
// The in-process transport: the same frames as a socket, between runtimes of one process (on one
// thread or several), without the kernel; with fault injection for tests.

#include <memory>

#include <sim/transport/stream.hpp>

namespace sim {

class runtime;

namespace detail {

std::unique_ptr<stream> connect_local(runtime& rt, const address& to, const transport_options& o,
                                      boost::system::error_code& ec);
std::unique_ptr<listener> listen_local(runtime& rt, const address& at, const transport_options& o);

}  // namespace detail
}  // namespace sim

#pragma once
/// Everything `sim::sim` offers (core to agents and clocks), in one include. The scenario layer
/// (`sim::scenario`: scenario files, the runner, plugins, container processes) has headers of its
/// own under sim/scenario/.

#include <sim/agent/agent.hpp>
#include <sim/agent/container.hpp>
#include <sim/agent/coordinator.hpp>
#include <sim/agent/manager.hpp>
#include <sim/agent/registry.hpp>
#include <sim/agent/rng.hpp>
#include <sim/channel/channel.hpp>
#include <sim/channel/message.hpp>
#include <sim/clock/clock.hpp>
#include <sim/clock/real_clock.hpp>
#include <sim/clock/utc_time.hpp>
#include <sim/clock/virtual_clock.hpp>
#include <sim/codec/big_integer.hpp>
#include <sim/codec/blosc_codec.hpp>
#include <sim/codec/codec.hpp>
#include <sim/codec/convert.hpp>
#include <sim/codec/json_codec.hpp>
#include <sim/codec/logical.hpp>
#include <sim/codec/lz4_codec.hpp>
#include <sim/codec/msgpack_codec.hpp>
#include <sim/codec/number.hpp>
#include <sim/codec/object.hpp>
#include <sim/codec/serializer_table.hpp>
#include <sim/codec/value.hpp>
#include <sim/codec/value_archive.hpp>
#include <sim/core/byte_buffer.hpp>
#include <sim/core/deadline.hpp>
#include <sim/core/error.hpp>
#include <sim/core/log.hpp>
#include <sim/framing/frame.hpp>
#include <sim/rpc/connection.hpp>
#include <sim/rpc/proxy.hpp>
#include <sim/rpc/request.hpp>
#include <sim/rpc/router.hpp>
#include <sim/runtime/future.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/runtime/sleep.hpp>
#include <sim/runtime/use_fiber.hpp>
#include <sim/runtime/wait_for_stop.hpp>
#include <sim/runtime/wait_queue.hpp>
#include <sim/transport/address.hpp>
#include <sim/transport/local_faults.hpp>
#include <sim/transport/stream.hpp>

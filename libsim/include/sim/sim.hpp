#pragma once
/// Everything libsim offers, in one include.

#include <sim/channel/channel.hpp>
#include <sim/channel/frame.hpp>
#include <sim/channel/message.hpp>
#include <sim/codec/big_integer.hpp>
#include <sim/codec/blosc_codec.hpp>
#include <sim/codec/codec.hpp>
#include <sim/codec/convert.hpp>
#include <sim/codec/json_codec.hpp>
#include <sim/codec/logical.hpp>
#include <sim/codec/lz4_codec.hpp>
#include <sim/codec/msgpack_codec.hpp>
#include <sim/codec/object.hpp>
#include <sim/codec/serializer_table.hpp>
#include <sim/codec/value.hpp>
#include <sim/codec/value_archive.hpp>
#include <sim/core/byte_buffer.hpp>
#include <sim/core/deadline.hpp>
#include <sim/core/error.hpp>
#include <sim/core/log.hpp>
#include <sim/runtime/runtime.hpp>
#include <sim/runtime/use_fiber.hpp>
#include <sim/transport/address.hpp>
#include <sim/transport/local_faults.hpp>
#include <sim/transport/stream.hpp>

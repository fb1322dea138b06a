#include <sim/codec/codec.hpp>

#include <array>
#include <stdexcept>

#include <sim/codec/blosc_codec.hpp>
#include <sim/codec/json_codec.hpp>
#include <sim/codec/lz4_codec.hpp>
#include <sim/codec/msgpack_codec.hpp>

#include "codec/decode_scratch.hpp"

namespace sim {

namespace {
constexpr std::array<std::string_view, 4> names{"json", "msgpack", "msgpack-blosc", "msgpack-lz4"};
}

codec::codec(codec_options options)
    : options_(std::move(options)), scratch_(std::make_unique<detail::decode_scratch>()) {}

codec::~codec() = default;

std::span<const std::string_view> codec_names() noexcept {
    return names;
}

std::unique_ptr<codec> make_codec(std::string_view name, codec_options options) {
    if (name == "json") return std::make_unique<json_codec>(std::move(options));
    if (name == "msgpack") return std::make_unique<msgpack_codec>(std::move(options));
    if (name == "msgpack-blosc") return std::make_unique<blosc_codec>(std::move(options));
    if (name == "msgpack-lz4") return std::make_unique<lz4_codec>(std::move(options));
    std::string known;
    for (auto n : names) {
        if (!known.empty()) known += ", ";
        known += n;
    }
    throw std::invalid_argument("unknown codec \"" + std::string(name) + "\" (known: " + known +
                                ")");
}

}  // namespace sim

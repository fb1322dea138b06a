// libFuzzer target: the msgpack decoder, and the round trip of whatever it accepts.

#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Envelopes off: the raw view, independent of any serializer table.
    sim::codec_options options{.decode_envelopes = false};
    auto c = sim::make_codec("msgpack", options);
    sim_fuzz::check_round_trip(*c, *c, sim_fuzz::as_bytes(data, size));
    return 0;
}

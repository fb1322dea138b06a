// libFuzzer target: the JSON decoder, and the round trip of whatever it accepts.

#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Envelopes off: with them on, a map shaped like {"__type__": ...} would need a registered
    // serializer, and the raw view is what the decoder has to get right first.
    sim::codec_options options{.decode_envelopes = false};
    auto c = sim::make_codec("json", options);
    sim_fuzz::check_round_trip(*c, *c, sim_fuzz::as_bytes(data, size));
    return 0;
}

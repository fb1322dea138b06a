// libFuzzer target: the msgpack-blosc decoder (Blosc header checks, then msgpack), and the round
// trip of whatever it accepts.

#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // A small inflation limit: a 64 KiB input may claim tens of megabytes, and allocating those
    // on every run would only slow the fuzzer down without reaching new code.
    sim::codec_options options{.max_size = std::size_t{1} << 20, .decode_envelopes = false};
    auto c = sim::make_codec("msgpack-blosc", options);
    auto verify = sim::make_codec("msgpack-blosc", {.decode_envelopes = false});
    sim_fuzz::check_round_trip(*c, *verify, sim_fuzz::as_bytes(data, size));
    return 0;
}

// libFuzzer target: the msgpack-lz4 decoder (stored and LZ4 forms), and the round trip of whatever
// it accepts.

#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // A small inflation limit: a 64 KiB LZ4 block may claim up to 16 MiB, and allocating that on
    // every run would only slow the fuzzer down without reaching new code.
    sim::codec_options options{.max_size = std::size_t{1} << 20, .decode_envelopes = false};
    auto c = sim::make_codec("msgpack-lz4", options);
    auto verify = sim::make_codec("msgpack-lz4", {.decode_envelopes = false});
    sim_fuzz::check_round_trip(*c, *verify, sim_fuzz::as_bytes(data, size));
    return 0;
}

#pragma once
// Shared by the fuzz targets: failing loudly, and the decode/encode/decode property every codec
// must have.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include <sim/codec/codec.hpp>
#include <sim/codec/logical.hpp>
#include <sim/core/error.hpp>

namespace sim_fuzz {

/// Reports a violated property and aborts, which libFuzzer records as a crash with its input.
[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
    std::fprintf(stderr, "\n==== fuzz property violated: %.*s\n", static_cast<int>(what.size()),
                 what.data());
    if (!detail.empty()) {
        std::fprintf(stderr, "%.*s\n", static_cast<int>(detail.size()), detail.data());
    }
    std::fflush(stderr);
    std::abort();
}

/// A value rendered for a failure report, cut short: fuzz values can be megabytes.
inline std::string show(const sim::value& v) {
    std::string s = sim::to_display_string(v);
    constexpr std::size_t limit = 2000;
    if (s.size() > limit) s = s.substr(0, limit) + "... (" + std::to_string(s.size()) + " chars)";
    return s;
}

inline std::span<const std::byte> as_bytes(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const std::byte*>(data), size};
}

/// Decodes `input` with `c`; bad input may only be rejected with `sim::serialization_error`
/// (any other exception escapes and crashes the fuzzer). A value that decodes must survive the
/// round trip: `c` re-encodes it without error (every decoded value is encodable in its own
/// format: JSON keys are strings, msgpack integers fit 64 bits, strings are valid UTF-8), the
/// result decodes to an equal value, and encoding that gives the same bytes again (encoders write
/// one canonical form); and it has a logical JSON form. `verify` does the second decode: the
/// same format as `c` but with the default size limit, because re-encoding may legitimately grow
/// a value past a small `max_size` (msgpack float32 becomes float64).
inline void check_round_trip(sim::codec& c, sim::codec& verify, std::span<const std::byte> input) {
    sim::value decoded;
    try {
        decoded = c.decode(input);
    } catch (const sim::serialization_error&) {
        return;
    }

    sim::byte_buffer encoded;
    try {
        c.encode(decoded, encoded);
    } catch (const sim::serialization_error& e) {
        fail("a decoded value does not re-encode",
             std::string(e.what()) + "\nvalue: " + show(decoded));
    }

    sim::value again;
    try {
        again = verify.decode(encoded.span());
    } catch (const sim::serialization_error& e) {
        fail("the codec cannot decode its own output",
             std::string(e.what()) + "\nvalue: " + show(decoded));
    }
    if (!(again == decoded)) {
        fail("decode(encode(v)) != v", "v:     " + show(decoded) + "\nagain: " + show(again));
    }

    sim::byte_buffer encoded_again;
    try {
        c.encode(again, encoded_again);
    } catch (const sim::serialization_error& e) {
        fail("a decoded value does not re-encode (second time)", e.what());
    }
    if (encoded_again.view() != encoded.view()) {
        fail("encode(decode(encode(v))) != encode(v): the encoding is not canonical",
             "value: " + show(decoded));
    }

    // What sim-frame decode prints: every decoded value has a logical form, however deep it is
    // within max_depth (the notation's markers nest deeper than the value).
    try {
        (void)sim::to_logical_json(decoded);
    } catch (const sim::serialization_error& e) {
        fail("a decoded value has no logical JSON form", std::string(e.what()));
    }
}

}  // namespace sim_fuzz

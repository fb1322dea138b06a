// Hostile and broken input: every case is a clear serialization_error, never a crash, a stack
// overflow or a huge allocation.

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sim/codec/codec.hpp>
#include <sim/codec/logical.hpp>

#include "support/allocation_probe.hpp"
#include "support/test_support.hpp"

using sim::array;
using sim::map;
using sim::value;

TEST_CASE("every truncation of every vector payload is a clean error", "[bad-input]") {
    for (const auto& file : sim_test::all_vector_files()) {
        auto codec = sim::make_codec(file.codec, sim::codec_options{.decode_envelopes = false});
        for (const value& v : file.doc["vectors"].as_array()) {
            auto frame = sim_test::from_hex(v["frame_hex"].as_string());
            std::span<const std::byte> payload(frame.data() + 4, frame.size() - 4);
            CAPTURE(file.codec, v["name"].as_string());
            for (std::size_t n = 0; n < payload.size(); ++n) {
                CAPTURE(n);
                REQUIRE_THROWS_AS(codec->decode(payload.first(n)), sim::serialization_error);
            }
        }
    }
}

TEST_CASE("nesting 100,000 levels deep hits the depth limit, not the stack", "[bad-input]") {
    constexpr std::size_t levels = 100000;
    auto json = sim::make_codec("json");
    std::string arrays(levels, '[');
    arrays += std::string(levels, ']');
    CHECK_THROWS_WITH(json->decode(arrays),
                      Catch::StartsWith("json decode: nesting deeper than 128 levels at byte 128"));
    std::string maps;
    for (std::size_t i = 0; i < levels; ++i)
        maps += "{\"a\": ";
    maps += "1" + std::string(levels, '}');
    CHECK_THROWS_WITH(json->decode(maps), Catch::Contains("nesting deeper than 128 levels"));

    for (const char* name : {"msgpack", "msgpack-lz4"}) {
        auto mp = sim::make_codec(name);
        std::string deep(levels, '\x91');
        deep += '\x01';
        if (std::string_view(name) == "msgpack-lz4") deep.insert(0, 1, '\0');
        CHECK_THROWS_WITH(mp->decode(deep), Catch::Contains("nesting deeper than 128 levels"));
    }
}

TEST_CASE("the depth limit is exact and configurable", "[bad-input]") {
    auto nested = [](std::size_t depth) {
        value v(1);
        for (std::size_t i = 0; i < depth; ++i)
            v = value(array{std::move(v)});
        return v;
    };
    for (auto name : sim::codec_names()) {
        CAPTURE(name);
        auto c = sim::make_codec(name);
        value ok = nested(128);
        CHECK(c->decode(c->encode(ok).span()) == ok);
        CHECK_THROWS_WITH(c->encode(nested(129)),
                          Catch::Contains("nesting deeper than 128 levels"));

        auto shallow = sim::make_codec(name, sim::codec_options{.max_depth = 4});
        CHECK_THROWS_WITH(shallow->decode(c->encode(nested(5)).span()),
                          Catch::Contains("nesting deeper than 4 levels"));
    }
}

TEST_CASE("element counts from the wire are not trusted for allocation", "[bad-input]") {
    auto mp = sim::make_codec("msgpack");
    struct {
        const char* hex;
        const char* what;
    } claims[] = {
        {"ddffffffff01", "array of 4 billion"},
        {"dfffffffff0101", "map of 4 billion"},
        {"dbffffffff61", "string of 4 GiB"},
        {"c6ffffffff61", "bytes of 4 GiB"},
        {"dc"
         "ffff"
         "dd"
         "ffffffff"
         "df"
         "ffffffff",
         "nested claims"},
    };
    for (const auto& c : claims) {
        CAPTURE(c.what);
        auto input = sim_test::from_hex(c.hex);
        sim_test::reset_largest_allocation();
        CHECK_THROWS_WITH(mp->decode(std::span<const std::byte>(input)),
                          Catch::StartsWith("msgpack decode: truncated input"));
        CHECK(sim_test::largest_allocation() < 4096);
    }
}

TEST_CASE("reserved and unsupported msgpack bytes are errors", "[bad-input]") {
    auto mp = sim::make_codec("msgpack");
    CHECK_THROWS_WITH(mp->decode(sim_test::as_bytes(std::string_view("\x93\x00\x01\xc1", 4))),
                      "msgpack decode: reserved byte 0xc1 at byte 3 (at [2])");
}

TEST_CASE("invalid UTF-8 is rejected by every decoder", "[bad-input]") {
    auto json = sim::make_codec("json");
    auto mp = sim::make_codec("msgpack");
    for (std::string bad : {"\x80", "\xc3", "\xe2\x82", "\xf0\x9f\x9a", "\xc0\x80", "\xe0\x80\x80",
                            "\xed\xb0\x80", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\xff"}) {
        CAPTURE(sim_test::to_hex(sim_test::as_bytes(bad)));
        CHECK_THROWS_WITH(json->decode("[\"ok\", \"x" + bad + "\"]"),
                          Catch::Contains("invalid UTF-8"));
        std::string packed = "\x92\xa2ok";
        packed += static_cast<char>(0xa1 + bad.size());
        packed += "x" + bad;
        CHECK_THROWS_WITH(mp->decode(packed), Catch::Contains("invalid UTF-8 in a string"));
    }
}

// ---- what a level of nesting is ----------------------------------------------------------------
//
// Every array and every map is one level, empty or not (codec_options::max_depth), for every
// decoder and every encoder: what a decoder accepts, every encoder writes again.

namespace {

// `levels` nested arrays (or maps): the outer ones hold one element each, the innermost is empty
// or holds one integer.
value nest(std::size_t levels, bool maps, bool empty_innermost) {
    value v;
    if (maps) {
        v = empty_innermost ? value(map{}) : value(map{{"k", 1}});
    } else {
        v = empty_innermost ? value(array{}) : value(array{1});
    }
    for (std::size_t i = 1; i < levels; ++i) {
        v = maps ? value(map{{"k", std::move(v)}}) : value(array{std::move(v)});
    }
    return v;
}

// The msgpack-lz4 payload a long run of fuzz-msgpack_lz4 found, with `wrappers` arrays of one
// element around the empty map: format byte 0 (stored), then the msgpack of
// [1, 1, [0, [[...[{}]...]], -129, 0, 0, 0, 0, 0, 0, 0, 0, 0, "levels"]]. With 126 wrappers (the
// fuzzer's input, 152 bytes) the empty map is level 129: 93, 9d, 126 x 91, 80.
std::string fuzz_lz4_input(std::size_t wrappers) {
    std::string s("\x00\x93\x01\x01\x9d\x00", 6);
    s += std::string(wrappers, '\x91');
    s += "\x80\xd1\xff\x7f";
    s += std::string(9, '\0');
    s += "\xa6levels";
    return s;
}

}  // namespace

TEST_CASE("an empty map at level 129 is refused by every msgpack decoder (fuzz regression)",
          "[bad-input]") {
    const std::string input = fuzz_lz4_input(126);
    REQUIRE(input.size() == 152);
    // The same bytes seed the fuzzers (tests/fuzz/seeds, copied in by fuzz-seed).
    const auto seeds =
        std::filesystem::path(__FILE__).parent_path().parent_path() / "fuzz" / "seeds";
    CHECK(sim_test::read_file((seeds / "msgpack_lz4" / "empty-map-at-depth-129").string()) ==
          input);
    CHECK(sim_test::read_file((seeds / "msgpack" / "empty-map-at-depth-129").string()) ==
          input.substr(1));

    // Before, the msgpack reader skipped the depth check for empty containers: it accepted this,
    // and then no encoder could write the value again.
    auto lz4 = sim::make_codec("msgpack-lz4", {.decode_envelopes = false});
    CHECK_THROWS_WITH(lz4->decode(input), Catch::StartsWith("msgpack-lz4 decode: nesting deeper "
                                                            "than 128 levels at byte 131"));
    auto mp = sim::make_codec("msgpack", {.decode_envelopes = false});
    CHECK_THROWS_WITH(
        mp->decode(std::string_view(input).substr(1)),
        Catch::StartsWith("msgpack decode: nesting deeper than 128 levels at byte 131"));

    // One wrapper fewer, the map is level 128: accepted, and written again by every encoder and
    // as logical JSON (sim-frame decode).
    const std::string ok = fuzz_lz4_input(125);
    const value v = lz4->decode(ok);
    CHECK(mp->decode(std::string_view(ok).substr(1)) == v);
    for (auto name : sim::codec_names()) {
        CAPTURE(name);
        auto c = sim::make_codec(name, {.decode_envelopes = false});
        CHECK(c->decode(c->encode(v).span()) == v);
    }
    CHECK(sim::from_logical_json(sim::to_logical_json(v)) == v);
}

TEST_CASE("every codec counts an empty array or map as a level, as every other codec does",
          "[bad-input]") {
    const auto names = sim::codec_names();
    for (std::size_t max : {std::size_t{1}, std::size_t{3}, std::size_t{128}}) {
        std::vector<std::unique_ptr<sim::codec>> strict, roomy;
        for (auto name : names) {
            strict.push_back(sim::make_codec(name, {.max_depth = max}));
            roomy.push_back(sim::make_codec(name, {.max_depth = max + 1}));
        }
        const std::string refused = "nesting deeper than " + std::to_string(max) + " levels";
        for (bool maps : {false, true}) {
            for (bool empty : {true, false}) {
                for (std::size_t levels : {max - 1, max, max + 1}) {
                    if (levels == 0) continue;
                    CAPTURE(max, maps, empty, levels);
                    const value v = nest(levels, maps, empty);
                    for (std::size_t e = 0; e < names.size(); ++e) {
                        CAPTURE(names[e]);
                        if (levels > max) {
                            // Refused by the encoder, and by the decoder when written by one
                            // that allows a level more.
                            CHECK_THROWS_WITH(strict[e]->encode(v), Catch::Contains(refused));
                            auto wire = roomy[e]->encode(v);
                            CHECK_THROWS_WITH(strict[e]->decode(wire.span()),
                                              Catch::Contains(refused));
                            continue;
                        }
                        const value decoded = strict[e]->decode(strict[e]->encode(v).span());
                        CHECK(decoded == v);
                        // Whatever this decoder accepted, every encoder writes again.
                        for (std::size_t f = 0; f < names.size(); ++f) {
                            CAPTURE(names[f]);
                            CHECK(strict[f]->decode(strict[f]->encode(decoded).span()) == v);
                        }
                    }
                }
            }
        }
    }
}

TEST_CASE("a msgpack map key is one level below its map, as its value is", "[bad-input]") {
    for (auto name : {"msgpack", "msgpack-lz4", "msgpack-blosc"}) {
        CAPTURE(name);
        auto strict = sim::make_codec(name, {.max_depth = 3});
        auto roomy = sim::make_codec(name, {.max_depth = 4});
        map with_key;
        with_key.insert_or_assign(array{}, 1);  // the empty array is level 3 inside [ {...} ]
        value ok(array{with_key});
        CHECK(strict->decode(strict->encode(ok).span()) == ok);
        value deep(array{array{with_key}});
        CHECK_THROWS_WITH(strict->encode(deep), Catch::Contains("nesting deeper than 3 levels"));
        CHECK_THROWS_WITH(strict->decode(roomy->encode(deep).span()),
                          Catch::Contains("nesting deeper than 3 levels"));
    }
}

// Hostile and broken input: every case is a clear serialization_error, never a crash, a stack
// overflow or a huge allocation.

#include <catch2/catch.hpp>

#include <sim/codec/codec.hpp>

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
    for (std::size_t i = 0; i < levels; ++i) maps += "{\"a\": ";
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
        for (std::size_t i = 0; i < depth; ++i) v = value(array{std::move(v)});
        return v;
    };
    for (auto name : sim::codec_names()) {
        CAPTURE(name);
        auto c = sim::make_codec(name);
        value ok = nested(128);
        CHECK(c->decode(c->encode(ok).span()) == ok);
        CHECK_THROWS_WITH(c->encode(nested(129)), Catch::Contains("nesting deeper than 128 levels"));

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
        {"dc" "ffff" "dd" "ffffffff" "df" "ffffffff", "nested claims"},
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
        CHECK_THROWS_WITH(json->decode("[\"ok\", \"x" + bad + "\"]"), Catch::Contains("invalid UTF-8"));
        std::string packed = "\x92\xa2ok";
        packed += static_cast<char>(0xa1 + bad.size());
        packed += "x" + bad;
        CHECK_THROWS_WITH(mp->decode(packed), Catch::Contains("invalid UTF-8 in a string"));
    }
}

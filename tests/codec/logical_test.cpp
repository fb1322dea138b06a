#include <catch2/catch.hpp>

#include <limits>
#include <string>

#include <sim/codec/codec.hpp>
#include <sim/codec/logical.hpp>

using sim::array;
using sim::map;
using sim::value;

TEST_CASE("the logical notation writes every kind as plain JSON", "[logical]") {
    map m;
    m.insert_or_assign(1, "one");
    value v(array{sim::bytes{std::byte{0xde}, std::byte{0xad}},
                  std::numeric_limits<double>::quiet_NaN(),
                  -std::numeric_limits<double>::infinity(),
                  sim::big_integer("-99999999999999999999"), m, map{{"s", 1.0}}, 2});
    std::string text = sim::to_logical_json(v);
    CHECK(text ==
          R"([{"$bytes": "dead"}, {"$float": "nan"}, {"$float": "-inf"}, )"
          R"({"$bigint": "-99999999999999999999"}, {"$map": [[1, "one"]]}, {"s": 1.0}, 2])");
    CHECK(sim::from_logical_json(text) == v);
}

TEST_CASE("malformed logical markers are errors", "[logical]") {
    CHECK_THROWS_WITH(sim::from_logical_json(R"({"$bytes": "abc"})"),
                      "$bytes: odd number of hex digits");
    CHECK_THROWS_WITH(sim::from_logical_json(R"([{"$bytes": "zz"}])"),
                      "$bytes: invalid hex digit (at [0])");
    CHECK_THROWS_WITH(sim::from_logical_json(R"({"$float": "NaN"})"),
                      "$float: expected \"nan\", \"inf\" or \"-inf\"");
    CHECK_THROWS_AS(sim::from_logical_json(R"({"$bigint": "1.5"})"), sim::serialization_error);
    CHECK_THROWS_AS(sim::from_logical_json(R"({"$map": [[1]]})"), sim::serialization_error);
    CHECK_THROWS_AS(sim::from_logical_json(R"({"$map": 3})"), sim::serialization_error);
    // A map with more keys is an ordinary map, markers or not.
    CHECK(sim::from_logical_json(R"({"$bytes": "00", "x": 1})").is_map());
}

TEST_CASE("every value within max_depth has a logical form (what sim-frame decode prints)",
          "[logical]") {
    // The notation nests deeper than the value: a map with a non-string key is three levels
    // ({"$map": [[key, value]]}), bytes, odd floats and big integers one ({"$bytes": ...}).
    const std::size_t max = sim::codec_options{}.max_depth;
    auto wrap = [](value v, std::size_t levels, bool int_keys) {
        for (std::size_t i = 0; i < levels; ++i) {
            if (int_keys) {
                map m;
                m.insert_or_assign(1, std::move(v));
                v = value(std::move(m));
            } else {
                v = value(array{std::move(v)});
            }
        }
        return v;
    };
    auto msgpack = sim::make_codec("msgpack", {.decode_envelopes = false});
    auto json = sim::make_codec("json", {.decode_envelopes = false});
    struct {
        value v;
        sim::codec* decoder;
    } deepest[] = {
        {wrap(value(sim::bytes{std::byte{1}}), max, false), msgpack.get()},
        {wrap(value(std::numeric_limits<double>::infinity()), max, false), json.get()},
        {wrap(value(sim::big_integer("-99999999999999999999")), max, false), json.get()},
        {wrap(value(map{}), max - 1, true), msgpack.get()},
        {wrap(value(sim::bytes{}), max, true), msgpack.get()},
    };
    for (const auto& d : deepest) {
        CAPTURE(d.decoder->name());
        // A decoder accepts the value...
        const value decoded = d.decoder->decode(d.decoder->encode(d.v).span());
        REQUIRE(decoded == d.v);
        // ... so it has a logical form, which reads back.
        std::string text;
        REQUIRE_NOTHROW(text = sim::to_logical_json(decoded));
        CHECK(sim::from_logical_json(text) == d.v);
    }
    // The notation's own limit still keeps deep JSON off the stack.
    CHECK_THROWS_WITH(sim::from_logical_json(std::string(100000, '[') + std::string(100000, ']')),
                      Catch::Contains("nesting deeper than"));
}

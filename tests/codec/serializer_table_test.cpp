#include <catch2/catch.hpp>

#include <sim/codec/codec.hpp>
#include <sim/codec/json_codec.hpp>
#include <sim/codec/msgpack_codec.hpp>

#include "support/test_support.hpp"

using sim::array;
using sim::map;
using sim::value;

namespace serializer_test {

struct point {
    int x = 0;
    int y = 0;
    template <class Archive>
    void serialize(Archive& ar) {
        ar(CEREAL_NVP(x), CEREAL_NVP(y));
    }
    friend bool operator==(const point&, const point&) = default;
};

struct temperature {
    double kelvin = 0;
};

struct unregistered {
    int n = 0;
    template <class Archive>
    void serialize(Archive& ar) {
        ar(CEREAL_NVP(n));
    }
};

}  // namespace serializer_test

template <>
inline constexpr bool sim::enable_object<serializer_test::temperature> = true;

using namespace serializer_test;

namespace {

sim::codec_options with_types() {
    sim::codec_options o;
    o.serializers.add<point>();
    o.serializers.add<temperature>(
        [](const temperature& t) { return value(t.kelvin - 273.15); },
        [](const value& v) { return temperature{v.as_double() + 273.15}; });
    return o;
}

}  // namespace

TEST_CASE("custom types travel in aiomas' envelope with ids in registration order",
          "[serializer]") {
    sim::json_codec json(with_types());
    value v(array{sim::to_value(point{3, 4}), sim::to_value(temperature{300.0})});
    std::string text(json.encode(v).view());
    CHECK(text ==
          R"([{"__type__": [0, {"x": 3, "y": 4}]}, {"__type__": [1, 26.850000000000023]}])");
    value back = json.decode(text);
    CHECK(back[0].as<point>() == point{3, 4});
    CHECK(back[1].as<temperature>().kelvin == Approx(300.0));

    sim::msgpack_codec mp(with_types());
    std::string hex = sim_test::to_hex(mp.encode(sim::to_value(point{3, 4})).span());
    // aiomas-protocol.md §3.1: 81 a8 "__type__" 92 00 <data>
    CHECK(hex == "81a85f5f747970655f5f920082a17803a17904");
    CHECK(mp.decode(mp.encode(sim::to_value(point{3, 4})).span()).as<point>() == point{3, 4});
}

TEST_CASE("serializer table errors are clear", "[serializer]") {
    sim::codec_options o = with_types();
    CHECK_THROWS_WITH(o.serializers.add<point>(),
                      "a serializer for serializer_test::point is already registered");

    sim::json_codec json(with_types());
    CHECK_THROWS_WITH(json.encode(array{1, sim::to_value(unregistered{})}),
                      "No serializer found for type \"serializer_test::unregistered\" (at [1])");
    CHECK_THROWS_WITH(
        json.decode(R"([{"__type__": [7, {}]}])"),
        "json decode: unknown custom type id 7 (2 serializers registered) at byte 22 (at [0])");
    CHECK_THROWS_WITH(json.decode(R"({"__type__": "nope"})"),
                      Catch::Contains("malformed custom-type envelope"));
    CHECK_THROWS_WITH(
        json.decode(R"({"__type__": [0, {"x": 1}]})"),
        Catch::Contains("cannot decode custom type serializer_test::point: missing field \"y\""));

    // A codec without serializers still recognises envelopes, and says the id is unknown.
    sim::msgpack_codec plain;
    CHECK_THROWS_WITH(plain.encode(sim::to_value(point{})),
                      "No serializer found for type \"serializer_test::point\"");
}

TEST_CASE("the raw view leaves envelopes as maps", "[serializer]") {
    sim::json_codec raw(sim::codec_options{.decode_envelopes = false});
    value v = raw.decode(R"({"__type__": [0, {"x": 1, "y": 2}]})");
    CHECK(v == value(map{{"__type__", array{0, map{{"x", 1}, {"y", 2}}}}}));
    CHECK(raw.encode(v).view() == R"({"__type__": [0, {"x": 1, "y": 2}]})");
    CHECK_THROWS_AS(raw.encode(sim::to_value(point{})), sim::serialization_error);
}

TEST_CASE("a fallback serializer serves every type without its own entry", "[serializer]") {
    sim::codec_options o;
    o.serializers.add<point>();
    std::uint32_t id = o.serializers.add(
        sim::serializer{std::nullopt, "reference",
                        [](const sim::object& obj) { return value("ref:" + obj.type_name()); },
                        [](const value& data) {
                            return value(map{{"proxy", data}});
                        }});
    CHECK(id == 1);
    CHECK_THROWS_AS(o.serializers.add(sim::serializer{std::nullopt, "second",
                                                      [](const sim::object&) { return value(); },
                                                      [](const value&) { return value(); }}),
                    std::invalid_argument);
    sim::json_codec json(std::move(o));
    std::string text(
        json.encode(array{sim::to_value(point{1, 2}), sim::to_value(unregistered{})}).view());
    CHECK(
        text ==
        R"([{"__type__": [0, {"x": 1, "y": 2}]}, {"__type__": [1, "ref:serializer_test::unregistered"]}])");
    CHECK(json.decode(text)[1] == value(map{{"proxy", "ref:serializer_test::unregistered"}}));
}

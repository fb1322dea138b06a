#include <catch2/catch.hpp>

#include <limits>

#include <sim/codec/logical.hpp>

using sim::array;
using sim::map;
using sim::value;

TEST_CASE("the logical notation writes every kind as plain JSON", "[logical]") {
    map m;
    m.insert_or_assign(1, "one");
    value v(array{sim::bytes{std::byte{0xde}, std::byte{0xad}}, std::numeric_limits<double>::quiet_NaN(),
                  -std::numeric_limits<double>::infinity(), sim::big_integer("-99999999999999999999"),
                  m, map{{"s", 1.0}}, 2});
    std::string text = sim::to_logical_json(v);
    CHECK(text == R"([{"$bytes": "dead"}, {"$float": "nan"}, {"$float": "-inf"}, )"
                  R"({"$bigint": "-99999999999999999999"}, {"$map": [[1, "one"]]}, {"s": 1.0}, 2])");
    CHECK(sim::from_logical_json(text) == v);
}

TEST_CASE("malformed logical markers are errors", "[logical]") {
    CHECK_THROWS_WITH(sim::from_logical_json(R"({"$bytes": "abc"})"), "$bytes: odd number of hex digits");
    CHECK_THROWS_WITH(sim::from_logical_json(R"([{"$bytes": "zz"}])"), "$bytes: invalid hex digit (at [0])");
    CHECK_THROWS_WITH(sim::from_logical_json(R"({"$float": "NaN"})"),
                      "$float: expected \"nan\", \"inf\" or \"-inf\"");
    CHECK_THROWS_AS(sim::from_logical_json(R"({"$bigint": "1.5"})"), sim::serialization_error);
    CHECK_THROWS_AS(sim::from_logical_json(R"({"$map": [[1]]})"), sim::serialization_error);
    CHECK_THROWS_AS(sim::from_logical_json(R"({"$map": 3})"), sim::serialization_error);
    // A map with more keys is an ordinary map, markers or not.
    CHECK(sim::from_logical_json(R"({"$bytes": "00", "x": 1})").is_map());
}

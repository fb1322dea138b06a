#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include <sim/codec/number.hpp>
#include <sim/codec/value.hpp>

using sim::array;
using sim::big_integer;
using sim::map;
using sim::value;
using sim::value_kind;

TEST_CASE("integers are normalised to one representation", "[value]") {
    CHECK(value(5).kind() == value_kind::int64);
    CHECK(value(5u).kind() == value_kind::int64);
    CHECK(value(std::uint64_t{5}).kind() == value_kind::int64);
    CHECK(value(5) == value(std::uint64_t{5}));
    CHECK(value(std::uint64_t{INT64_MAX}).kind() == value_kind::int64);
    CHECK(value(std::uint64_t{INT64_MAX} + 1).kind() == value_kind::uint64);
    CHECK(value(std::numeric_limits<std::uint64_t>::max()).kind() == value_kind::uint64);

    // A big integer that fits is stored as a machine integer; one that does not keeps its digits.
    CHECK(value(big_integer("-9223372036854775808")).kind() == value_kind::int64);
    CHECK(value(big_integer("18446744073709551615")).kind() == value_kind::uint64);
    value big(big_integer("18446744073709551616"));
    REQUIRE(big.kind() == value_kind::big_integer);
    CHECK(big.get_if<big_integer>()->str() == "18446744073709551616");
    CHECK(value(big_integer("-0")) == value(0));
}

TEST_CASE("big_integer parses, canonicalises and orders", "[value]") {
    CHECK(big_integer("000123").str() == "123");
    CHECK(big_integer("-000").str() == "0");
    CHECK(big_integer("+42").str() == "42");
    CHECK_FALSE(big_integer::parse("12a").has_value());
    CHECK_FALSE(big_integer::parse("").has_value());
    CHECK_FALSE(big_integer::parse("-").has_value());
    CHECK_THROWS_AS(big_integer("1.5"), std::invalid_argument);
    CHECK(big_integer("-5") < big_integer("3"));
    CHECK(big_integer("-50") < big_integer("-5"));
    CHECK(big_integer("100000000000000000000") > big_integer("99999999999999999999"));
    CHECK(big_integer("123").to_int64() == 123);
    CHECK_FALSE(big_integer("-1").to_uint64().has_value());
    std::string huge(401, '0');  // built without `"1" + std::string`, which GCC 12 -Wrestrict flags
    huge[0] = '1';
    CHECK(big_integer(huge).to_double() == std::numeric_limits<double>::infinity());
    CHECK(big_integer("-" + huge).to_double() == -std::numeric_limits<double>::infinity());
}

TEST_CASE("kinds and checked access", "[value]") {
    CHECK(value().is_nil());
    CHECK(value(nullptr).is_nil());
    CHECK(value(true).is_bool());
    CHECK(value("text").is_string());
    CHECK(value(std::string_view("sv")).as_string() == "sv");
    CHECK(value(1.5).is_float());
    CHECK(value(1.5f).as_double() == 1.5);
    CHECK(value(sim::bytes{std::byte{1}}).is_bytes());
    CHECK(value(array{1, 2}).is_array());
    CHECK(value(map{{"a", 1}}).is_map());

    CHECK(value(3).as_double() == 3.0);
    CHECK(value(std::uint64_t{1} << 63).as_uint64() == (std::uint64_t{1} << 63));
    CHECK(value(7).as_big_integer().str() == "7");
    CHECK_THROWS_WITH(value("abc").as_int64(), "expected int, got string \"abc\"");
    CHECK_THROWS_WITH(value(1.5).as_string(), "expected string, got float 1.5");
    CHECK_THROWS_AS(value(-1).as_uint64(), sim::serialization_error);
    CHECK_THROWS_AS(value(std::uint64_t{1} << 63).as_int64(), sim::serialization_error);
    CHECK_THROWS_AS(value().as_bool(), sim::serialization_error);
}

TEST_CASE("indexing arrays and maps", "[value]") {
    value v(array{10, map{{"k", "v"}}});
    CHECK(v[0] == value(10));
    CHECK(v[1]["k"] == value("v"));
    CHECK(v.size() == 2);
    CHECK_THROWS_WITH(v[2], "index 2 out of range for an array of 2");
    CHECK_THROWS_WITH(v[1]["missing"], "missing key \"missing\"");
    CHECK_THROWS_AS(v["k"], sim::serialization_error);
}

TEST_CASE("equality is structural and exact", "[value]") {
    double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK(value(nan) == value(nan));
    CHECK(value(0.0) != value(-0.0));
    CHECK(value(1) != value(1.0));
    CHECK(value(true) != value(1));
    CHECK(value("a") != value(sim::bytes{std::byte{'a'}}));
    CHECK(value(array{1, "x"}) == value(array{1, "x"}));
    CHECK(value(array{1, "x"}) != value(array{"x", 1}));
    // A map's order is part of its wire form.
    CHECK(value(map{{"a", 1}, {"b", 2}}) == value(map{{"a", 1}, {"b", 2}}));
    CHECK(value(map{{"a", 1}, {"b", 2}}) != value(map{{"b", 2}, {"a", 1}}));
}

TEST_CASE("hash agrees with equality", "[value]") {
    std::hash<value> h;
    CHECK(h(value(5)) == h(value(std::uint64_t{5})));
    CHECK(h(value(std::numeric_limits<double>::quiet_NaN())) ==
          h(value(-std::numeric_limits<double>::quiet_NaN())));
    CHECK(h(value(array{1, map{{"k", 2}}})) == h(value(array{1, map{{"k", 2}}})));
    CHECK(h(value("k")) == h(value(std::string("k"))));
}

TEST_CASE("map keeps insertion order and unique keys", "[value][map]") {
    map m;
    m.insert_or_assign("b", 1);
    m.insert_or_assign("a", 2);
    m.insert_or_assign(3, "int key");
    m.insert_or_assign(value(array{1}), "array key");
    m.insert_or_assign("b", 10);  // assigns in place, as a Python dict does
    REQUIRE(m.size() == 4);
    CHECK(m.entry_at(0).first == value("b"));
    CHECK(m.entry_at(0).second == value(10));
    CHECK(m.entry_at(1).first == value("a"));
    CHECK(*m.find(value(3)) == value("int key"));
    CHECK(*m.find(value(array{1})) == value("array key"));
    CHECK(m.find("nope") == nullptr);
    CHECK_FALSE(m.insert("a", 99));
    CHECK(m.at("a") == value(2));
    m["c"] = 7;
    CHECK(m.entry_at(4).first == value("c"));
    CHECK(m.erase("a"));
    CHECK_FALSE(m.contains("a"));
    CHECK(m.entry_at(1).first == value(3));
    CHECK_FALSE(m.erase("a"));
}

TEST_CASE("map lookups stay correct past the linear-scan size", "[value][map]") {
    map m;
    for (int i = 0; i < 1000; ++i)
        m.insert_or_assign(fmt::format("k{}", i), i);
    for (int i = 0; i < 1000; i += 2)
        m.insert_or_assign(i, -i);  // int keys beside string keys
    REQUIRE(m.size() == 1500);
    for (int i = 0; i < 1000; ++i) {
        REQUIRE(m.find(fmt::format("k{}", i)) != nullptr);
        CHECK(*m.find(fmt::format("k{}", i)) == value(i));
    }
    CHECK(*m.find(value(998)) == value(-998));
    CHECK(m.find(value(999)) == nullptr);
    for (int i = 0; i < 1000; i += 3)
        CHECK(m.erase(fmt::format("k{}", i)));
    CHECK(m.find("k3") == nullptr);
    CHECK(*m.find("k4") == value(4));
    map copy = m;
    CHECK(copy == m);
    CHECK(*copy.find("k998") == value(998));
    m.clear();
    CHECK(m.empty());
    CHECK(m.find("k4") == nullptr);
    CHECK(*copy.find("k4") == value(4));
}

TEST_CASE("moving a value leaves the source valid and is cheap", "[value]") {
    value a(array{1, 2, 3});
    const auto* data = a.as_array().data();
    value b(std::move(a));
    CHECK(b.as_array().data() == data);
    static_assert(std::is_nothrow_move_constructible_v<value>);
    static_assert(std::is_nothrow_move_assignable_v<value>);
    static_assert(sizeof(value) <= 40);
}

TEST_CASE("values format for people", "[value][format]") {
    value v(array{nullptr, true, 3, -4.5, 1e16, "a\"b\n", sim::bytes{std::byte{'h'}, std::byte{0}},
                  map{{"k", 1}, {2, array{}}}, big_integer("123456789012345678901234567890")});
    CHECK(fmt::format("{}", v) ==
          "[null, true, 3, -4.5, 1e+16, \"a\\\"b\\n\", b'h\\x00', {\"k\": 1, 2: []}, "
          "123456789012345678901234567890]");
    CHECK(fmt::format("{}", value(std::numeric_limits<double>::quiet_NaN())) == "nan");
    CHECK(fmt::format("{:>5}", value(1)) == "    1");
    CHECK(fmt::format("{}", value_kind::map) == "map");
}

TEST_CASE("numbers as aiomas writes them: whole values as integers, others as floats",
          "[codec][value]") {
    CHECK(sim::number_value(900.0) == sim::value(std::int64_t{900}));
    CHECK(sim::number_value(900.0).kind() == sim::value_kind::int64);
    CHECK(sim::number_value(-0.0).kind() == sim::value_kind::int64);
    CHECK(sim::number_value(0.5).kind() == sim::value_kind::float64);
    // 2^53 - 1 is the last whole double that is an integer exactly; 2^53 stays a double.
    CHECK(sim::number_value(9007199254740991.0) == sim::value(std::int64_t{9007199254740991}));
    CHECK(sim::number_value(9007199254740992.0).kind() == sim::value_kind::float64);
    CHECK(sim::number_value(std::numeric_limits<double>::infinity()).kind() ==
          sim::value_kind::float64);
    CHECK(sim::number_text(900.0) == "900");
    CHECK(sim::number_text(0.5) == "0.5");
    CHECK(sim::number_text(1e16) == "1e+16");
    CHECK(sim::number_text(-std::numeric_limits<double>::infinity()) == "-inf");
    CHECK(sim::number_text(std::nan("")) == "nan");
}

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include <sim/codec/json_codec.hpp>

#include "support/test_support.hpp"

using sim::array;
using sim::map;
using sim::value;

namespace {

std::string encode(const value& v) {
    sim::json_codec json;
    return std::string(json.encode(v).view());
}

value decode(std::string_view text) {
    sim::json_codec json;
    return json.decode(text);
}

}  // namespace

TEST_CASE("json encodes as Python's json.dumps", "[json]") {
    CHECK(encode(array{0, 0, array{"ping", array{}, map{}}}) == R"([0, 0, ["ping", [], {}]])");
    CHECK(encode(map{{"scale", 3}, {"b", nullptr}}) == R"({"scale": 3, "b": null})");
    CHECK(encode(array{true, false}) == "[true, false]");
    CHECK(encode(value(std::numeric_limits<std::int64_t>::min())) == "-9223372036854775808");
    CHECK(encode(value(std::numeric_limits<std::uint64_t>::max())) == "18446744073709551615");
    CHECK(encode(value(sim::big_integer("-1000000000000000000000000000000"))) ==
          "-1000000000000000000000000000000");
}

TEST_CASE("json floats follow Python's repr", "[json]") {
    struct {
        double d;
        const char* text;
    } cases[] = {
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {3.0, "3.0"},
        {1.5, "1.5"},
        {0.1, "0.1"},
        {0.0001, "0.0001"},
        {1e-05, "1e-05"},
        {1e-07, "1e-07"},
        {123456789.0, "123456789.0"},
        {1e15, "1000000000000000.0"},
        {1e16, "1e+16"},
        {1.5e16, "1.5e+16"},
        {1e22, "1e+22"},
        {1e+300, "1e+300"},
        {5e-324, "5e-324"},
        {2.2250738585072014e-308, "2.2250738585072014e-308"},
        {1.7976931348623157e+308, "1.7976931348623157e+308"},
        {-2.5e-5, "-2.5e-05"},
        {0.30000000000000004, "0.30000000000000004"},
        {123.456, "123.456"},
        {std::numeric_limits<double>::quiet_NaN(), "NaN"},
        {std::numeric_limits<double>::infinity(), "Infinity"},
        {-std::numeric_limits<double>::infinity(), "-Infinity"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        CHECK(encode(value(c.d)) == c.text);
        value back = decode(c.text);
        CHECK(back == value(c.d));
    }
}

TEST_CASE("json strings are ASCII with Python's escapes", "[json]") {
    CHECK(encode("a\"b\\c/d") == R"("a\"b\\c/d")");
    CHECK(encode("\n\r\t\b\f") == R"("\n\r\t\b\f")");
    CHECK(encode(std::string("\0\x1f\x7f", 3)) == R"("\u0000\u001f\u007f")");
    CHECK(encode("caf\xc3\xa9 \xe2\x82\xac") == R"("caf\u00e9 \u20ac")");
    CHECK(encode("\xf0\x9f\x9a\x80") == R"("\ud83d\ude80")");
    CHECK(encode("\xef\xbf\xbf") == R"("\uffff")");
    CHECK_THROWS_WITH(encode("bad \xff"),
                      "json cannot encode a string that is not valid UTF-8 (byte 4 of the string)");
    CHECK_THROWS_AS(encode("\xed\xa0\x80"), sim::serialization_error);  // an encoded surrogate
}

TEST_CASE("json map keys convert as Python converts them", "[json]") {
    map m;
    m.insert_or_assign(1, "int");
    m.insert_or_assign(1.5, "float");
    m.insert_or_assign(true, "bool");
    m.insert_or_assign(nullptr, "nil");
    m.insert_or_assign(sim::big_integer("123456789012345678901234567890"), "big");
    CHECK(encode(m) == R"({"1": "int", "1.5": "float", "true": "bool", "null": "nil", )"
                       R"("123456789012345678901234567890": "big"})");
    map bad;
    bad.insert_or_assign(array{1}, 2);
    CHECK_THROWS_WITH(
        encode(array{0, bad}),
        "json map keys must be strings, numbers, booleans or null, not array (at [1][[1]])");
}

TEST_CASE("json cannot carry bytes and says where they are", "[json]") {
    sim::json_codec json;
    sim::byte_buffer out;
    out.append(std::string_view("keep"));
    value v(array{1, map{{"k", array{2, sim::bytes{std::byte{0}}}}}});
    try {
        json.encode(v, out);
        FAIL("expected an exception");
    } catch (const sim::serialization_error& e) {
        CHECK(e.place() == "[1][\"k\"][1]");
        CHECK(e.reason() == "json cannot encode bytes (use a msgpack codec)");
    }
    CHECK(out.view() == "keep");  // a failed encode leaves the buffer as it was
}

TEST_CASE("json decodes any valid JSON and Python's extra tokens", "[json]") {
    CHECK(decode(" \t\r\n[ 1 ,2\n,\t3 ] ") == value(array{1, 2, 3}));
    CHECK(decode(R"({"a" : {"b" : []}, "c":{}})") ==
          value(map{{"a", map{{"b", array{}}}}, {"c", map{}}}));
    CHECK(decode(R"("\u00e9\u20AC\ud83d\ude80\/\"\\\b\f\n\r\t")") ==
          value("\xc3\xa9\xe2\x82\xac\xf0\x9f\x9a\x80/\"\\\b\f\n\r\t"));
    CHECK(decode("\"caf\xc3\xa9\"") == value("caf\xc3\xa9"));
    CHECK(decode("-0") == value(0));
    CHECK(decode("-0.0") == value(-0.0));
    CHECK(decode("1E3") == value(1000.0));
    CHECK(decode("1e-2") == value(0.01));
    CHECK(decode("2.5E+2") == value(250.0));
    CHECK(decode("123456789012345678") == value(123456789012345678));
    CHECK(decode("9223372036854775807") == value(INT64_MAX));
    CHECK(decode("-9223372036854775808") == value(INT64_MIN));
    CHECK(decode("18446744073709551615") == value(UINT64_MAX));
    CHECK(decode("18446744073709551616").get_if<sim::big_integer>()->str() ==
          "18446744073709551616");
    CHECK(decode("-9223372036854775809").get_if<sim::big_integer>()->str() ==
          "-9223372036854775809");
    CHECK(std::isnan(decode("NaN").as_double()));
    CHECK(decode("[Infinity, -Infinity]") ==
          value(array{std::numeric_limits<double>::infinity(),
                      -std::numeric_limits<double>::infinity()}));
    // Python's float() overflows to infinity and underflows to zero.
    CHECK(decode("1e400") == value(std::numeric_limits<double>::infinity()));
    CHECK(decode("-1.5e99999999999999999999") == value(-std::numeric_limits<double>::infinity()));
    CHECK(decode("1e-400") == value(0.0));
    CHECK(decode("-0.000001e-400") == value(-0.0));
    CHECK(decode("0.00000000000000000000000000001e330") == value(1e301));
}

TEST_CASE("json big integers keep every digit through a round trip", "[json]") {
    std::string digits = "123456789012345678901234567890123456789012345678901234567890";
    value v = decode("[" + digits + ", -" + digits + "]");
    CHECK(encode(v) == "[" + digits + ", -" + digits + "]");
}

TEST_CASE("json duplicate keys: the last value wins at the first position", "[json]") {
    value v = decode(R"({"a": 1, "b": 2, "a": 3})");
    CHECK(v == value(map{{"a", 3}, {"b", 2}}));
    CHECK(encode(v) == R"({"a": 3, "b": 2})");
}

TEST_CASE("json rejects malformed input with its byte offset", "[json]") {
    struct {
        const char* text;
        const char* error;
    } cases[] = {
        {"", "json decode: expected a value at byte 0"},
        {"   ", "json decode: expected a value at byte 3"},
        {"[1, 2", "json decode: expected ',' or ']' at byte 5"},
        {"[1 2]", "json decode: expected ',' or ']' at byte 3"},
        {"[1,]", "json decode: expected a value at byte 3"},
        {"{\"a\" 1}", "json decode: expected ':' after a key at byte 5"},
        {"{1: 2}", "json decode: expected a string key in double quotes at byte 1"},
        {"{\"a\": 1,}", "json decode: expected a string key in double quotes at byte 8"},
        {"01", "json decode: extra data after the value at byte 1"},
        {"1.", "json decode: invalid number: expected a digit after '.' at byte 2"},
        {".5", "json decode: expected a value at byte 0"},
        {"+1", "json decode: expected a value at byte 0"},
        {"-", "json decode: invalid number at byte 1"},
        {"1e", "json decode: invalid number: expected a digit in the exponent at byte 2"},
        {"tru", "json decode: expected a value at byte 0"},
        {"nan", "json decode: expected a value at byte 0"},
        {"\"abc", "json decode: unterminated string at byte 4"},
        {"\"a\x01\"", "json decode: control character in string at byte 2"},
        {"\"\\x\"", "json decode: invalid escape at byte 2"},
        {"\"\\u12\"", "json decode: truncated \\u escape at byte 3"},
        {"\"\\u12g4\"", "json decode: invalid \\u escape at byte 3"},
        {"\"\\ud800\"", "json decode: unpaired surrogate in \\u escape at byte 7"},
        {"\"\\udc00\"", "json decode: unpaired surrogate in \\u escape at byte 7"},
        {"\"\\ud800\\u0041\"", "json decode: unpaired surrogate in \\u escape at byte 13"},
        {"\"\xc3\"", "json decode: invalid UTF-8 at byte 1"},
        {"\"\xc0\xaf\"", "json decode: invalid UTF-8 at byte 1"},
        {"\"\xed\xa0\x80\"", "json decode: invalid UTF-8 at byte 1"},
        {"\xef\xbb\xbf[]", "json decode: expected a value at byte 0"},
        {"[] []", "json decode: extra data after the value at byte 3"},
        {"{\"a\": [1, {\"b\": x}]}", "json decode: expected a value at byte 16"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        CHECK_THROWS_WITH(decode(c.text), Catch::StartsWith(c.error));
    }
    try {
        (void)decode(R"({"a": [1, {"b": x}]})");
    } catch (const sim::serialization_error& e) {
        CHECK(e.place() == "[\"a\"][1][\"b\"]");
    }
}

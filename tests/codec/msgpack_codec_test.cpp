#include <catch2/catch.hpp>

#include <limits>

#include <sim/codec/msgpack_codec.hpp>

#include "support/test_support.hpp"

using sim::array;
using sim::map;
using sim::value;
using sim_test::from_hex;
using sim_test::to_hex;

namespace {

std::string encode_hex(const value& v) {
    sim::msgpack_codec mp;
    return to_hex(mp.encode(v).span());
}

value decode_hex(std::string_view hex) {
    sim::msgpack_codec mp;
    auto b = from_hex(hex);
    return mp.decode(std::span<const std::byte>(b));
}

}  // namespace

TEST_CASE("msgpack integers take the smallest form, unsigned when non-negative", "[msgpack]") {
    struct {
        value v;
        const char* hex;
    } cases[] = {
        {value(0), "00"},
        {value(127), "7f"},
        {value(128), "cc80"},
        {value(255), "ccff"},
        {value(256), "cd0100"},
        {value(65535), "cdffff"},
        {value(65536), "ce00010000"},
        {value(2147483647), "ce7fffffff"},
        {value(4294967296LL), "cf0000000100000000"},
        {value(std::numeric_limits<std::uint64_t>::max()), "cfffffffffffffffff"},
        {value(-1), "ff"},
        {value(-32), "e0"},
        {value(-33), "d0df"},
        {value(-128), "d080"},
        {value(-129), "d1ff7f"},
        {value(-32768), "d18000"},
        {value(-32769), "d2ffff7fff"},
        {value(std::numeric_limits<std::int32_t>::min()), "d280000000"},
        {value(std::numeric_limits<std::int32_t>::min() - 1LL), "d3ffffffff7fffffff"},
        {value(std::numeric_limits<std::int64_t>::min()), "d38000000000000000"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.hex);
        CHECK(encode_hex(c.v) == c.hex);
        CHECK(decode_hex(c.hex) == c.v);
    }
    CHECK_THROWS_WITH(encode_hex(array{value(sim::big_integer("18446744073709551616"))}),
                      "msgpack cannot encode the integer 18446744073709551616 (outside [-2^63, "
                      "2^64-1]) (at [0])");
}

TEST_CASE("msgpack floats are always float64", "[msgpack]") {
    // msgpack-cxx's default adaptor would write 1.0 as the integer 1: we must not.
    CHECK(encode_hex(value(1.0)) == "cb3ff0000000000000");
    CHECK(encode_hex(value(0.0)) == "cb0000000000000000");
    CHECK(encode_hex(value(-0.0)) == "cb8000000000000000");
    CHECK(encode_hex(value(1.5f)) == "cb3ff8000000000000");
    CHECK(decode_hex("ca3fc00000") == value(1.5));  // float32 input is accepted
}

TEST_CASE("msgpack strings, bytes and containers at every width", "[msgpack]") {
    CHECK(encode_hex("") == "a0");
    CHECK(encode_hex(std::string(31, 'a')).substr(0, 2) == "bf");
    CHECK(encode_hex(std::string(32, 'a')).substr(0, 4) == "d920");
    CHECK(encode_hex(std::string(255, 'a')).substr(0, 4) == "d9ff");
    CHECK(encode_hex(std::string(256, 'a')).substr(0, 6) == "da0100");
    CHECK(encode_hex(std::string(65536, 'a')).substr(0, 10) == "db00010000");
    CHECK(encode_hex(sim::bytes{}) == "c400");
    CHECK(encode_hex(sim::bytes(256)).substr(0, 6) == "c50100");
    CHECK(encode_hex(sim::bytes(65536)).substr(0, 10) == "c600010000");
    CHECK(encode_hex(array(15)).substr(0, 2) == "9f");
    CHECK(encode_hex(array(16)).substr(0, 6) == "dc0010");
    CHECK(encode_hex(array(65536)).substr(0, 10) == "dd00010000");
    map m;
    for (int i = 0; i < 16; ++i)
        m.insert_or_assign(i, nullptr);
    CHECK(encode_hex(m).substr(0, 6) == "de0010");
    CHECK(encode_hex(map{{1, "a"}, {value(array{}), true}}) == "8201a16190c3");
    CHECK(encode_hex(array{nullptr, false, true}) == "93c0c2c3");
}

TEST_CASE("msgpack decodes every width, canonical or not", "[msgpack]") {
    // Non-canonical but valid forms a peer may send.
    CHECK(decode_hex("cc05") == value(5));
    CHECK(decode_hex("cd0005") == value(5));
    CHECK(decode_hex("d3ffffffffffffffff") == value(-1));
    CHECK(decode_hex("d000") == value(0));
    CHECK(decode_hex("d90161") == value("a"));
    CHECK(decode_hex("db0000000161") == value("a"));
    CHECK(decode_hex("dc000101") == value(array{1}));
    CHECK(decode_hex("dd0000000101") == value(array{1}));
    CHECK(decode_hex("de00010102") == value(map{{1, 2}}));
    CHECK(decode_hex("df000000010102") == value(map{{1, 2}}));
    CHECK(decode_hex("c4020102") == value(sim::bytes{std::byte{1}, std::byte{2}}));
    CHECK(decode_hex("c500020102") == value(sim::bytes{std::byte{1}, std::byte{2}}));
    CHECK(decode_hex("c60000000101") == value(sim::bytes{std::byte{1}}));
    CHECK(decode_hex("80") == value(map{}));
    CHECK(decode_hex("90") == value(array{}));
    CHECK(decode_hex("9190") == value(array{array{}}));
}

TEST_CASE("msgpack strings must be UTF-8 both ways", "[msgpack]") {
    CHECK_THROWS_WITH(encode_hex(array{"ok", "bad\xc3"}),
                      "msgpack cannot encode a string that is not valid UTF-8 (byte 3 of the "
                      "string) (at [1])");
    CHECK_THROWS_WITH(decode_hex("92a16fa2c328"),
                      "msgpack decode: invalid UTF-8 in a string at byte 4 (at [1])");
}

TEST_CASE("msgpack rejects malformed input with its byte offset", "[msgpack]") {
    struct {
        const char* hex;
        const char* error;
    } cases[] = {
        {"", "msgpack decode: truncated input: 1 more bytes needed, 0 left at byte 0"},
        {"c1", "msgpack decode: reserved byte 0xc1 at byte 0"},
        {"92c1", "msgpack decode: reserved byte 0xc1 at byte 1"},
        {"cd01", "msgpack decode: truncated input: 2 more bytes needed, 1 left at byte 0"},
        {"9301020304", "msgpack decode: 1 extra bytes after the value at byte 4"},
        {"a3616263ff", "msgpack decode: 1 extra bytes after the value at byte 4"},
        {"a461", "msgpack decode: truncated input: 4 more bytes needed, 1 left at byte 0"},
        {"c7010001", "msgpack decode: msgpack ext types are not supported at byte 0"},
        {"d40001", "msgpack decode: msgpack ext types are not supported at byte 0"},
        {"9301", "msgpack decode: truncated input: 1 more bytes needed, 0 left at byte 2"},
        {"81a16b", "msgpack decode: truncated input: 1 more bytes needed, 0 left at byte 3"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.hex);
        CHECK_THROWS_WITH(decode_hex(c.hex), Catch::StartsWith(c.error));
    }
}

TEST_CASE("msgpack keeps non-string map keys", "[msgpack]") {
    value v = decode_hex(
        "82"
        "01a3696e74"
        "93010203c3");
    REQUIRE(v.is_map());
    CHECK(*v.as_map().find(value(1)) == value("int"));
    CHECK(*v.as_map().find(value(array{1, 2, 3})) == value(true));
}

#include <catch2/catch.hpp>

#include <cstring>

#include <sim/codec/blosc_codec.hpp>
#include <sim/codec/lz4_codec.hpp>
#include <sim/codec/msgpack_codec.hpp>

#include "support/test_support.hpp"

using sim::array;
using sim::map;
using sim::value;

namespace {

value repetitive(std::size_t n) {
    array a;
    for (std::size_t i = 0; i < n; ++i)
        a.push_back(value(array{"agents/" + std::to_string(i % 7), 1.5, i % 3}));
    return value(std::move(a));
}

std::uint32_t le32(const sim::byte_buffer& b, std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
        v |= static_cast<std::uint32_t>(b.data()[at + i]) << (8 * i);
    return v;
}

void put_le32(sim::byte_buffer& b, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        b.data()[at + i] = static_cast<std::byte>(v >> (8 * i));
}

}  // namespace

TEST_CASE("msgpack-blosc stores small payloads after a Blosc header", "[blosc]") {
    sim::blosc_codec blosc;
    sim::msgpack_codec mp;
    value v(array{0, 0, "ohai"});
    sim::byte_buffer frame = blosc.encode(v);
    sim::byte_buffer plain = mp.encode(v);
    REQUIRE(frame.size() == plain.size() + 16);
    CHECK(static_cast<int>(frame.data()[0]) == 2);     // version
    CHECK(static_cast<int>(frame.data()[1]) == 1);     // versionlz
    CHECK(static_cast<int>(frame.data()[2]) == 0x13);  // shuffle | memcpy | no split
    CHECK(static_cast<int>(frame.data()[3]) == 8);     // typesize
    CHECK(le32(frame, 4) == plain.size());
    CHECK(le32(frame, 12) == frame.size());
    CHECK(std::memcmp(frame.data() + 16, plain.data(), plain.size()) == 0);
    CHECK(blosc.decode(frame.span()) == v);
}

TEST_CASE("msgpack-blosc compresses larger payloads and reads every compressor", "[blosc]") {
    value v = repetitive(500);
    sim::blosc_codec blosc;
    sim::byte_buffer frame = blosc.encode(v);
    // Byte shuffle, not a memcpy, blosclz; c-blosc decides on its own whether to split blocks.
    CHECK((static_cast<int>(frame.data()[2]) & 0xe3) == 0x01);
    CHECK(frame.size() < sim::msgpack_codec().encode(v).size() / 4);
    CHECK(blosc.decode(frame.span()) == v);

    // aiomas decodes whatever compressor the header names; so must we.
    for (const char* compressor : {"lz4", "lz4hc", "zlib", "zstd"}) {
        CAPTURE(compressor);
        sim::blosc_codec other({}, sim::blosc_options{.compressor = compressor});
        sim::byte_buffer f = other.encode(v);
        CHECK(blosc.decode(f.span()) == v);
    }
    CHECK_THROWS_AS(sim::blosc_codec({}, sim::blosc_options{.compressor = "nope"}),
                    std::invalid_argument);
}

TEST_CASE("msgpack-blosc rejects headers whose sizes lie", "[blosc]") {
    sim::blosc_codec blosc;
    sim::byte_buffer good = blosc.encode(repetitive(500));
    sim::byte_buffer stored = blosc.encode(value(array{1, 2, 3}));

    SECTION("shorter than a header") {
        CHECK_THROWS_WITH(blosc.decode(good.span().first(10)),
                          "msgpack-blosc decode: payload of 10 bytes is shorter than the 16-byte "
                          "Blosc header");
    }
    SECTION("cbytes does not match the payload") {
        sim::byte_buffer b = good;
        put_le32(b, 12, static_cast<std::uint32_t>(b.size() + 100));
        CHECK_THROWS_WITH(blosc.decode(b.span()),
                          Catch::Contains("compressed bytes but the payload has"));
        CHECK_THROWS_AS(blosc.decode(good.span().first(good.size() - 1)), sim::serialization_error);
    }
    SECTION("nbytes beyond the limit is refused before anything is allocated") {
        sim::byte_buffer b = good;
        put_le32(b, 4, 0xfffffff0u);
        CHECK_THROWS_WITH(blosc.decode(b.span()), Catch::Contains("above the limit of 67108864"));
    }
    SECTION("nbytes larger than the data holds") {
        sim::byte_buffer b = good;
        put_le32(b, 4, le32(b, 4) * 2);
        CHECK_THROWS_AS(blosc.decode(b.span()), sim::serialization_error);
        sim::byte_buffer s = stored;
        put_le32(s, 4, le32(s, 4) + 1);
        CHECK_THROWS_AS(blosc.decode(s.span()), sim::serialization_error);
    }
    SECTION("nbytes smaller than the data holds") {
        sim::byte_buffer s = stored;
        put_le32(s, 4, le32(s, 4) - 1);
        CHECK_THROWS_AS(blosc.decode(s.span()), sim::serialization_error);
    }
    SECTION("corrupt compressed data") {
        sim::byte_buffer b = good;
        for (std::size_t i = 16; i < b.size(); i += 3)
            b.data()[i] = std::byte{0xff};
        CHECK_THROWS_AS(blosc.decode(b.span()), sim::serialization_error);
    }
    SECTION("unknown version") {
        sim::byte_buffer b = good;
        b.data()[0] = std::byte{9};
        CHECK_THROWS_AS(blosc.decode(b.span()), sim::serialization_error);
    }
}

TEST_CASE("msgpack-lz4 stores small or incompressible payloads and compresses the rest", "[lz4]") {
    sim::lz4_codec lz4;
    sim::msgpack_codec mp;

    value small(array{0, 1, "x"});
    sim::byte_buffer s = lz4.encode(small);
    CHECK(static_cast<int>(s.data()[0]) == 0);
    CHECK(s.size() == mp.encode(small).size() + 1);
    CHECK(lz4.decode(s.span()) == small);

    value big = repetitive(500);
    sim::byte_buffer b = lz4.encode(big);
    CHECK(static_cast<int>(b.data()[0]) == 1);
    CHECK(le32(b, 1) == mp.encode(big).size());
    CHECK(b.size() < mp.encode(big).size() / 2);
    CHECK(lz4.decode(b.span()) == big);

    sim::bytes noise(4096);
    std::uint64_t x = 88172645463325252ULL;
    for (auto& n : noise) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        n = static_cast<std::byte>(x);
    }
    sim::byte_buffer r = lz4.encode(value(noise));
    CHECK(static_cast<int>(r.data()[0]) == 0);
    CHECK(lz4.decode(r.span()) == value(noise));

    sim::lz4_codec eager({}, 0);
    CHECK(eager.decode(eager.encode(small).span()) == small);
}

TEST_CASE("msgpack-lz4 rejects malformed payloads", "[lz4]") {
    sim::lz4_codec lz4;
    sim::byte_buffer b = lz4.encode(repetitive(500));
    CHECK_THROWS_WITH(lz4.decode(std::span<const std::byte>()),
                      "msgpack-lz4 decode: empty payload");
    CHECK_THROWS_WITH(lz4.decode(sim_test::as_bytes("\x07rest")),
                      "msgpack-lz4 decode: unknown format byte 7 (0 stored, 1 LZ4)");
    CHECK_THROWS_WITH(lz4.decode(b.span().first(3)), "msgpack-lz4 decode: truncated header");
    sim::byte_buffer lie = b;
    put_le32(lie, 1, 0x7fffffff);
    CHECK_THROWS_WITH(lz4.decode(lie.span()), Catch::Contains("above the limit"));
    sim::byte_buffer longer = b;
    put_le32(longer, 1, le32(b, 1) + 1);
    CHECK_THROWS_WITH(lz4.decode(longer.span()),
                      Catch::StartsWith("msgpack-lz4 decode: corrupt LZ4 block"));
    CHECK_THROWS_AS(lz4.decode(b.span().first(b.size() - 1)), sim::serialization_error);
    CHECK_THROWS_WITH(lz4.decode(sim_test::as_bytes(std::string_view("\x00\xc1", 2))),
                      "msgpack-lz4 decode: reserved byte 0xc1 at byte 0");
}

TEST_CASE("codecs are chosen by name", "[codec]") {
    for (auto name : sim::codec_names()) {
        auto c = sim::make_codec(name);
        CHECK(c->name() == name);
        value v(array{1, "two", 3.0, map{{"k", nullptr}}});
        CHECK(c->decode(c->encode(v).span()) == v);
    }
    CHECK_THROWS_WITH(sim::make_codec("xml"),
                      "unknown codec \"xml\" (known: json, msgpack, msgpack-blosc, msgpack-lz4)");
}

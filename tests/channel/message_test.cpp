#include <catch2/catch.hpp>

#include <sim/channel/message.hpp>
#include <sim/codec/json_codec.hpp>
#include <sim/codec/msgpack_codec.hpp>
#include <sim/framing/frame.hpp>

#include "support/test_support.hpp"

using sim::array;
using sim::map;
using sim::value;

TEST_CASE("a message encodes as one frame of [type, id, content]", "[message]") {
    sim::json_codec json;
    sim::byte_buffer out;
    value content(array{"calc/math/add", array{1, 2}, map{{"scale", 3}}});
    sim::encode_frame(json, sim::message_type::request, value(1), content, out);
    CHECK(
        sim_test::to_hex(out.span()) ==
        "0000002f5b302c20312c205b2263616c632f6d6174682f616464222c205b312c20325d2c207b227363616c6522"
        "3a20337d5d5d");
    // Frames append: a writer can gather several into one buffer.
    sim::encode_frame(json, sim::message{sim::message_type::result, value(1), value(9)}, out);
    sim::frame_reader reader;
    reader.feed(out.span());
    std::error_code ec;
    auto first = reader.next(ec);
    auto second = reader.next(ec);
    REQUIRE((first && second));
    CHECK(sim::decode_message(json, *first) ==
          sim::message{sim::message_type::request, value(1), content});
    CHECK(sim::decode_message(json, *second) ==
          sim::message{sim::message_type::result, value(1), value(9)});
}

TEST_CASE("a failed encode leaves the output untouched", "[message]") {
    sim::json_codec json;
    sim::byte_buffer out;
    sim::encode_frame(json, sim::message_type::request, value(0), value("ok"), out);
    std::size_t before = out.size();
    CHECK_THROWS_AS(sim::encode_frame(json, sim::message_type::request, value(1),
                                      value(sim::bytes{std::byte{1}}), out),
                    sim::serialization_error);
    CHECK(out.size() == before);
    CHECK_THROWS_WITH(sim::encode_frame(json, sim::message_type::result, value(1),
                                        value(std::string(100, 'x')), out, 50),
                      "message of 110 bytes exceeds the maximum frame size of 50 bytes");
    CHECK(out.size() == before);
}

TEST_CASE("invalid messages are protocol errors that say what is wrong", "[message]") {
    sim::msgpack_codec mp;
    auto decode = [&](const value& v) { return sim::decode_message(mp, mp.encode(v).span()); };
    CHECK_THROWS_WITH(decode(value("x")),
                      "invalid message: expected [type, id, content], got string");
    CHECK_THROWS_WITH(decode(array{0, 1}),
                      "invalid message: expected [type, id, content], got an array of 2 elements");
    CHECK_THROWS_WITH(decode(array{0, 1, 2, 3}),
                      "invalid message: expected [type, id, content], got an array of 4 elements");
    CHECK_THROWS_WITH(decode(array{3, 1, "x"}),
                      "invalid message type 3 (expected 0 request, 1 result or 2 exception)");
    CHECK_THROWS_WITH(decode(array{"0", 1, "x"}),
                      "invalid message type \"0\" (expected 0 request, 1 result or 2 exception)");
    CHECK_THROWS_AS(decode(array{-1, 1, "x"}), sim::protocol_error);
    // Ids are opaque: a reply echoes whatever the request carried.
    CHECK(decode(array{2, "abc", "ValueError: 42\n"}).id == value("abc"));
    CHECK(decode(array{1, -5, nullptr}).type == sim::message_type::result);
}

// The golden aiomas 2.0.1 frames: every one must decode to its logical value, and every logical
// value must encode to exactly the captured bytes (compressed Blosc frames too, with the c-blosc
// release that captured them).

#include <catch2/catch.hpp>

#include <blosc.h>

#include <sim/channel/message.hpp>
#include <sim/codec/codec.hpp>
#include <sim/codec/logical.hpp>
#include <sim/framing/frame.hpp>

#include "support/test_support.hpp"

using sim::value;

TEST_CASE("every aiomas vector decodes to its logical value and re-encodes byte for byte",
          "[vectors]") {
    std::size_t checked = 0, compressed = 0;
    for (const auto& file : sim_test::all_vector_files()) {
        auto codec = sim::make_codec(file.codec, sim::codec_options{.decode_envelopes = false});
        const auto& vectors = file.doc["vectors"].as_array();
        REQUIRE(vectors.size() == 104);
        for (const value& v : vectors) {
            const std::string& name = v["name"].as_string();
            CAPTURE(file.codec, name);
            auto frame = sim_test::from_hex(v["frame_hex"].as_string());
            value logical = sim::from_logical(v["logical"]);

            // Framing: the header holds the payload length.
            REQUIRE(frame.size() >= sim::frame_header_size);
            std::uint32_t length = sim::read_frame_header(frame.data());
            CHECK(length == frame.size() - sim::frame_header_size);
            CHECK(length == v["length"].as<std::uint32_t>());
            std::span<const std::byte> payload(frame.data() + sim::frame_header_size, length);

            // Decoding.
            sim::message m = sim::decode_message(*codec, payload);
            CHECK(static_cast<int>(m.type) == v["message_type"].as<int>());
            CHECK(m.id == v["message_id"]);
            CHECK(sim::to_value(m) == logical);

            // Encoding.
            sim::byte_buffer out;
            sim::encode_frame(*codec, sim::to_message(value(logical)), out);
            bool blosc_compressed = v.as_map().contains("msgpack_hex");
            if (blosc_compressed) {
                ++compressed;
                // Compressed bytes belong to the c-blosc release; the contents must match anyway.
                auto mp = sim::make_codec("msgpack", sim::codec_options{.decode_envelopes = false});
                auto inner = sim_test::from_hex(v["msgpack_hex"].as_string());
                CHECK(mp->decode(std::span<const std::byte>(inner)) == logical);
                CHECK(v["blosc_header"]["flags"] == value(0x11));
                if (std::string_view(blosc_get_version_string()) == "1.21.3") {
                    CHECK(sim_test::to_hex(out.span()) == v["frame_hex"].as_string());
                }
            } else {
                CHECK(sim_test::to_hex(out.span()) == v["frame_hex"].as_string());
            }
            ++checked;
        }
    }
    CHECK(checked == 312);
    CHECK(compressed == 4);
}

TEST_CASE("each vector scenario replays as one stream through the frame reader", "[vectors]") {
    for (const auto& file : sim_test::all_vector_files()) {
        CAPTURE(file.codec);
        auto codec = sim::make_codec(file.codec, sim::codec_options{.decode_envelopes = false});
        // All frames of a file back to back, fed one byte at a time.
        std::vector<std::byte> stream;
        std::vector<value> expected;
        for (const value& v : file.doc["vectors"].as_array()) {
            auto frame = sim_test::from_hex(v["frame_hex"].as_string());
            stream.insert(stream.end(), frame.begin(), frame.end());
            expected.push_back(sim::from_logical(v["logical"]));
        }
        sim::frame_reader reader;
        std::size_t got = 0;
        for (std::byte b : stream) {
            reader.feed(std::span<const std::byte>(&b, 1));
            std::error_code ec;
            while (auto payload = reader.next(ec)) {
                REQUIRE(got < expected.size());
                CHECK(sim::to_value(sim::decode_message(*codec, *payload)) == expected[got]);
                ++got;
            }
            REQUIRE_FALSE(ec);
        }
        CHECK(got == expected.size());
        CHECK(reader.pending() == 0);
    }
}

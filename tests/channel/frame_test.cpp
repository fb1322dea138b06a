#include <catch2/catch.hpp>

#include <random>

#include <sim/framing/frame.hpp>

#include "support/test_support.hpp"

namespace {

std::vector<std::byte> make_frame(std::string_view payload) {
    std::vector<std::byte> f(4 + payload.size());
    sim::write_frame_header(f.data(), static_cast<std::uint32_t>(payload.size()));
    std::memcpy(f.data() + 4, payload.data(), payload.size());
    return f;
}

std::string as_string(std::span<const std::byte> s) {
    return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

}  // namespace

TEST_CASE("frame header is a big-endian payload length", "[frame]") {
    std::byte h[4];
    sim::write_frame_header(h, 0x01020304);
    CHECK(sim_test::to_hex(h) == "01020304");
    CHECK(sim::read_frame_header(h) == 0x01020304);
}

TEST_CASE("frames come out whole whatever the chunking", "[frame]") {
    std::vector<std::string> payloads{"a", std::string(300, 'b'), "ccc", std::string(70000, 'd'),
                                      "e"};
    std::vector<std::byte> stream;
    for (const auto& p : payloads) {
        auto f = make_frame(p);
        stream.insert(stream.end(), f.begin(), f.end());
    }
    std::mt19937 rng(1);
    for (std::size_t max_chunk : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7},
                                  std::size_t{4096}, stream.size()}) {
        CAPTURE(max_chunk);
        sim::frame_reader reader;
        std::vector<std::string> got;
        std::size_t at = 0;
        while (at < stream.size()) {
            std::size_t n = std::min<std::size_t>(stream.size() - at, 1 + rng() % max_chunk);
            // Alternate between copying in and reading into prepared space, as a socket would.
            if (rng() % 2 == 0) {
                reader.feed(std::span<const std::byte>(stream.data() + at, n));
            } else {
                auto room = reader.prepare(n);
                REQUIRE(room.size() >= n);
                std::memcpy(room.data(), stream.data() + at, n);
                reader.commit(n);
            }
            at += n;
            std::error_code ec;
            while (auto p = reader.next(ec))
                got.push_back(as_string(*p));
            REQUIRE_FALSE(ec);
        }
        CHECK(got == payloads);
        CHECK(reader.pending() == 0);
        CHECK(reader.offset() == stream.size());
    }
}

TEST_CASE("several frames from one read are all delivered in order", "[frame]") {
    sim::frame_reader reader;
    std::vector<std::byte> stream;
    for (int i = 0; i < 100; ++i) {
        auto f = make_frame(std::to_string(i));
        stream.insert(stream.end(), f.begin(), f.end());
    }
    reader.feed(stream);
    std::error_code ec;
    int i = 0;
    while (auto p = reader.next(ec))
        CHECK(as_string(*p) == std::to_string(i++));
    CHECK(i == 100);
}

TEST_CASE("an oversized frame is refused from its header alone", "[frame]") {
    sim::frame_reader reader(1024);
    auto ok = make_frame("fine");
    reader.feed(ok);
    std::byte header[4];
    sim::write_frame_header(header, 1025);
    reader.feed(header);  // no payload bytes follow: the header is enough to refuse
    std::error_code ec;
    auto first = reader.next(ec);
    REQUIRE(first);
    CHECK(as_string(*first) == "fine");
    CHECK_FALSE(reader.next(ec));
    CHECK(ec == sim::errc::frame_too_large);
    CHECK(reader.announced() == 1025);
    CHECK(reader.offset() == 8);
    CHECK(ec.message() == "frame larger than the maximum frame size");
    // The reader stays failed.
    reader.feed(ok);
    CHECK_FALSE(reader.next(ec));
    CHECK(ec == sim::errc::frame_too_large);
}

TEST_CASE("a 4 GiB announcement does not make the reader allocate", "[frame]") {
    sim::frame_reader reader;  // default limit 64 MiB
    std::byte header[4];
    sim::write_frame_header(header, 0xffffffffu);
    reader.feed(header);
    std::error_code ec;
    CHECK_FALSE(reader.next(ec));
    CHECK(ec == sim::errc::frame_too_large);
}

TEST_CASE("a zero-length payload is an error", "[frame]") {
    sim::frame_reader reader;
    std::byte header[4];
    sim::write_frame_header(header, 0);
    reader.feed(header);
    std::error_code ec;
    CHECK_FALSE(reader.next(ec));
    CHECK(ec == sim::errc::empty_frame);
    CHECK(ec.category().name() == std::string("sim"));
}

TEST_CASE("a partial frame waits for the rest", "[frame]") {
    sim::frame_reader reader;
    auto f = make_frame("hello");
    reader.feed(std::span<const std::byte>(f).first(6));
    std::error_code ec;
    CHECK_FALSE(reader.next(ec));
    CHECK_FALSE(ec);
    CHECK(reader.pending() == 6);
    CHECK(reader.announced() == 5);
    reader.feed(std::span<const std::byte>(f).subspan(6));
    auto p = reader.next(ec);
    REQUIRE(p);
    CHECK(as_string(*p) == "hello");
}

TEST_CASE("memory stays bounded by the largest frame, not by the stream", "[frame]") {
    auto f = make_frame(std::string(60, 'x'));
    for (bool use_prepare : {false, true}) {
        CAPTURE(use_prepare);
        sim::frame_reader reader;
        std::size_t frames = 0;
        for (int i = 0; i < 100000; ++i) {
            if (use_prepare) {
                auto room = reader.prepare(f.size());
                std::memcpy(room.data(), f.data(), f.size());
                reader.commit(f.size());
            } else {
                reader.feed(f);
            }
            std::error_code ec;
            while (reader.next(ec))
                ++frames;
        }
        CHECK(frames == 100000);
        CHECK(reader.memory() < 16384);
    }
}

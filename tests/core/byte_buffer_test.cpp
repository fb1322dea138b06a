#include <catch2/catch.hpp>

#include <cstring>

#include <sim/core/byte_buffer.hpp>
#include <sim/core/error.hpp>

TEST_CASE("byte_buffer appends, grows without zero-filling and keeps capacity on clear",
          "[byte_buffer]") {
    sim::byte_buffer b;
    CHECK(b.empty());
    b.append(std::string_view("abc"));
    b.push_back(std::byte{'d'});
    CHECK(b.view() == "abcd");
    std::byte* p = b.extend(3);
    std::memcpy(p, "efg", 3);
    CHECK(b.view() == "abcdefg");
    b.shrink_by(2);
    CHECK(b.view() == "abcde");
    b.consume(2);
    CHECK(b.view() == "cde");
    auto room = b.prepare(1000);
    CHECK(room.size() >= 1000);
    std::memcpy(room.data(), "xyz", 3);
    b.commit(3);
    CHECK(b.view() == "cdexyz");
    std::size_t cap = b.capacity();
    b.clear();
    CHECK(b.empty());
    CHECK(b.capacity() == cap);
    for (int i = 0; i < 100000; ++i)
        b.push_back(static_cast<std::uint8_t>(i));
    CHECK(b.size() == 100000);
    CHECK(static_cast<int>(b.data()[99999]) == (99999 & 0xff));
    sim::byte_buffer copy = b;
    CHECK(copy.view() == b.view());
    sim::byte_buffer moved = std::move(copy);
    CHECK(moved.size() == 100000);
    CHECK(copy.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
}

TEST_CASE("serialization_error builds its place from the inside out", "[error]") {
    sim::serialization_error e("bad thing");
    CHECK(std::string(e.what()) == "bad thing");
    e.prepend_place("[\"k\"]");
    e.prepend_place("[2]");
    CHECK(e.place() == "[2][\"k\"]");
    CHECK(std::string(e.what()) == "bad thing (at [2][\"k\"])");
    CHECK(e.reason() == "bad thing");
}

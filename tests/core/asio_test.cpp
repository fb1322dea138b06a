#include <catch2/catch.hpp>

#include <sim/core/asio.hpp>

TEST_CASE("the Asio wrapper compiles in C++20 and runs an io_context", "[asio]") {
    boost::asio::io_context io;
    int ran = 0;
    boost::asio::post(io, [&] { ++ran; });
    CHECK(io.run() == 1);
    CHECK(ran == 1);
}

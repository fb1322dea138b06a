#include <cstdio>

#include <sim/sim.hpp>

int main() {
    auto codec = sim::make_codec("msgpack");
    sim::value v(sim::array{0, 1, "ping"});
    sim::value back = codec->decode(codec->encode(v).span());
    std::printf("%s\n", sim::to_display_string(back).c_str());
    return back == v ? 0 : 1;
}

// sim-frame, run as a separate process: output, exit statuses and error messages.

#include <catch2/catch.hpp>

#include "support/process.hpp"
#include "support/test_support.hpp"

using sim_test::run_process;

namespace {

sim_test::process_result frame(std::vector<std::string> args, const std::string& input) {
    args.insert(args.begin(), SIM_FRAME_EXE);
    return run_process(args, input);
}

const std::string request_hex =
    "0000002f5b302c20312c205b2263616c632f6d6174682f616464222c205b312c20325d2c207b227363616c65223a"
    "20337d5d5d";
const std::string reply_hex = "000000095b312c20312c20395d";

}  // namespace

TEST_CASE("sim-frame decodes concatenated frames to logical JSON lines", "[sim-frame]") {
    auto r = frame({"decode", "--codec", "json", "--hex"}, request_hex + "\n" + reply_hex + "\n");
    CHECK(r.status == 0);
    CHECK(r.out == "[0, 1, [\"calc/math/add\", [1, 2], {\"scale\": 3}]]\n[1, 1, 9]\n");
    CHECK(r.err.empty());
}

TEST_CASE("sim-frame encodes the vectors' logical notation byte for byte", "[sim-frame]") {
    auto r = frame({"encode", "--codec", "msgpack", "--hex"}, R"([0, 0, "ohai"])");
    CHECK(r.status == 0);
    CHECK(r.out == "00000008930000a46f686169\n");
    r = frame({"encode", "-c", "msgpack-blosc", "-x"}, R"([1, 0, "cya"])");
    CHECK(r.out == "0000001702011308070000000100000017000000930100a3637961\n");
    r = frame({"encode", "--codec", "msgpack", "--hex"},
              R"([1, 3, [{"$bytes": "00ff"}, {"$float": "-inf"}, {"$map": [[1, 2.0]]}]])");
    CHECK(r.status == 0);
    CHECK(r.out ==
          "0000001c930103"
          "93c40200ff"
          "cbfff0000000000000"
          "8101cb4000000000000000\n");
}

TEST_CASE("sim-frame round-trips raw bytes through every codec", "[sim-frame]") {
    const std::string message =
        R"([0, 7, ["agents/3/set_value", [1.5, "abc", [1, 2, 3]], {"k": true}]])";
    for (const char* codec : {"json", "msgpack", "msgpack-blosc", "msgpack-lz4"}) {
        CAPTURE(codec);
        auto enc = frame({"encode", "--codec", codec}, message);
        REQUIRE(enc.status == 0);
        auto dec = frame({"decode", "--codec", codec}, enc.out + enc.out);
        CHECK(dec.status == 0);
        CHECK(dec.out == message + "\n" + message + "\n");
    }
}

TEST_CASE("sim-frame reports bad input with exit status 1 and says where", "[sim-frame]") {
    auto r = frame({"decode", "--hex"}, request_hex.substr(0, 40));
    CHECK(r.status == 1);
    CHECK(r.err ==
          "sim-frame: input ends inside frame 0 at byte 0: header announces 47 payload "
          "bytes, 16 present\n");

    r = frame({"decode", "--hex"}, reply_hex + "0000");
    CHECK(r.status == 1);
    CHECK(r.out == "[1, 1, 9]\n");  // what came before the error is still printed
    CHECK(r.err == "sim-frame: input ends inside frame 1 at byte 13: 2 bytes of a 4-byte header\n");

    r = frame({"decode", "--hex", "--codec", "json"},
              "000000035b315d"
              "000000045b312c5d");
    CHECK(r.status == 1);
    CHECK(r.err ==
          "sim-frame: frame 0 at byte 0 (payload from byte 4, codec json): invalid message: "
          "expected [type, id, content], got an array of 1 elements\n");

    r = frame({"decode", "--hex", "--codec", "msgpack"},
              "00000004"
              "9301c102");
    CHECK(r.status == 1);
    CHECK(r.err ==
          "sim-frame: frame 0 at byte 0 (payload from byte 4, codec msgpack): msgpack decode: "
          "reserved byte 0xc1 at byte 2 (at [1])\n");

    r = frame({"decode", "--hex"}, "00000000");
    CHECK(r.status == 1);
    CHECK(r.err == "sim-frame: frame 0 at byte 0: frame with an empty payload\n");

    r = frame({"decode", "--hex"}, "0000zz");
    CHECK(r.status == 1);
    CHECK(r.err == "sim-frame: --hex input: invalid hex digit at character 4\n");

    r = frame({"decode", "--hex"}, "");
    CHECK(r.status == 1);
    CHECK(r.err == "sim-frame: no frames in the input\n");

    r = frame({"encode"}, "[0, 1, ");
    CHECK(r.status == 1);
    CHECK(r.err == "sim-frame: encode: json decode: expected a value at byte 7 (at [2])\n");

    r = frame({"encode"}, "[5, 1, 2]");
    CHECK(r.status == 1);
    CHECK(r.err ==
          "sim-frame: encode: invalid message type 5 (expected 0 request, 1 result or 2 "
          "exception)\n");

    r = frame({"encode", "--codec", "json"}, R"([0, 1, {"$bytes": "00"}])");
    CHECK(r.status == 1);
    CHECK(r.err ==
          "sim-frame: encode (json): json cannot encode bytes (use a msgpack codec) (at [2])\n");
}

TEST_CASE("sim-frame usage errors exit with status 2", "[sim-frame]") {
    CHECK(frame({}, "").status == 2);
    CHECK(frame({"decode", "--codec", "xml"}, "").status == 2);
    CHECK(frame({"decode", "--bogus"}, "").status == 2);
    CHECK(frame({"frobnicate"}, "").status == 2);
    auto help = frame({"--help"}, "");
    CHECK(help.status == 0);
    CHECK_THAT(help.out, Catch::Contains("Exit status: 0 success, 1 bad input"));
    auto sub = frame({"decode", "--help"}, "");
    CHECK(sub.status == 0);
    CHECK_THAT(sub.out, Catch::Contains("msgpack-blosc"));
    CHECK_THAT(sub.out, Catch::Contains("--hex"));
}

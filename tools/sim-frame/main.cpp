// sim-frame: encode and decode aiomas frames, for debugging what goes over the wire.
//
//   sim-frame encode --codec C [--hex] [FILE]   logical JSON message -> one frame
//   sim-frame decode --codec C [--hex] [FILE]   frames -> one logical JSON line each
//
// Exit status: 0 success, 1 bad input (the message names what and where), 2 usage error.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include <CLI/CLI.hpp>

#include <sim/channel/message.hpp>
#include <sim/codec/codec.hpp>
#include <sim/codec/logical.hpp>
#include <sim/framing/frame.hpp>

namespace {

constexpr int exit_bad_input = 1;
constexpr int exit_usage = 2;

struct bad_input : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string read_all(const std::string& path) {
    if (path.empty() || path == "-") {
        std::string data((std::istreambuf_iterator<char>(std::cin)),
                         std::istreambuf_iterator<char>());
        return data;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw bad_input("cannot open " + path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string from_hex(const std::string& text) {
    std::string out;
    int high = -1;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        int v = -1;
        if (c >= '0' && c <= '9') v = c - '0';
        if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
        if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
        if (v < 0)
            throw bad_input("--hex input: invalid hex digit at character " + std::to_string(i));
        if (high < 0) {
            high = v;
        } else {
            out.push_back(static_cast<char>(high << 4 | v));
            high = -1;
        }
    }
    if (high >= 0) throw bad_input("--hex input: odd number of hex digits");
    return out;
}

std::string to_hex(std::span<const std::byte> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2 + 1);
    for (std::byte b : bytes) {
        out.push_back(digits[static_cast<unsigned>(b) >> 4]);
        out.push_back(digits[static_cast<unsigned>(b) & 0xf]);
    }
    return out;
}

// The raw view: envelopes stay maps, as in the vectors' logical notation.
std::unique_ptr<sim::codec> raw_codec(const std::string& name) {
    return sim::make_codec(name, sim::codec_options{.decode_envelopes = false});
}

void encode(const std::string& codec_name, bool hex, const std::string& path) {
    auto c = raw_codec(codec_name);
    sim::message m;
    try {
        m = sim::to_message(sim::from_logical_json(read_all(path)));
    } catch (const std::exception& e) {
        throw bad_input(std::string("encode: ") + e.what());
    }
    sim::byte_buffer frame;
    try {
        sim::encode_frame(*c, m, frame);
    } catch (const std::exception& e) {
        throw bad_input("encode (" + codec_name + "): " + e.what());
    }
    if (hex) {
        std::cout << to_hex(frame.span()) << '\n';
    } else {
        std::cout.write(reinterpret_cast<const char*>(frame.data()),
                        static_cast<std::streamsize>(frame.size()));
    }
    std::cout.flush();
}

void decode(const std::string& codec_name, bool hex, const std::string& path) {
    auto c = raw_codec(codec_name);
    std::string input = read_all(path);
    if (hex) input = from_hex(input);
    sim::frame_reader reader(sim::max_wire_payload);
    reader.feed(std::as_bytes(std::span(input.data(), input.size())));
    std::size_t count = 0;
    for (;;) {
        std::error_code ec;
        std::uint64_t at = reader.offset();
        auto payload = reader.next(ec);
        if (ec) {
            throw bad_input("frame " + std::to_string(count) + " at byte " + std::to_string(at) +
                            ": " + ec.message());
        }
        if (!payload) break;
        try {
            sim::message m = sim::decode_message(*c, *payload);
            std::cout << sim::to_logical_json(sim::to_value(m)) << '\n';
        } catch (const std::exception& e) {
            // Offsets inside the error are relative to the payload, which starts 4 bytes on.
            throw bad_input("frame " + std::to_string(count) + " at byte " + std::to_string(at) +
                            " (payload from byte " + std::to_string(at + sim::frame_header_size) +
                            ", codec " + codec_name + "): " + e.what());
        }
        ++count;
    }
    if (reader.pending() != 0) {
        std::string what = "input ends inside frame " + std::to_string(count) + " at byte " +
                           std::to_string(reader.offset()) + ": ";
        if (reader.pending() < sim::frame_header_size) {
            what += std::to_string(reader.pending()) + " bytes of a 4-byte header";
        } else {
            what += "header announces " + std::to_string(reader.announced()) + " payload bytes, " +
                    std::to_string(reader.pending() - sim::frame_header_size) + " present";
        }
        throw bad_input(what);
    }
    if (count == 0) throw bad_input("no frames in the input");
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "Encode and decode aiomas/libsim frames: a 4-byte big-endian length, then the codec's\n"
        "payload of [type, id, content]. Values use the logical JSON notation of the aiomas\n"
        "vectors: bytes {\"$bytes\": hex}, NaN/inf {\"$float\": \"nan\"|\"inf\"|\"-inf\"}, big\n"
        "integers {\"$bigint\": \"digits\"}, maps with non-string keys {\"$map\": [[k, v], ...]};\n"
        "floats carry a point or exponent, integers none. Exit status: 0 success, 1 bad input,\n"
        "2 usage error.",
        "sim-frame"};
    app.require_subcommand(1);

    std::string codec_name = "json";
    bool hex = false;
    std::string path;
    std::string codecs;
    for (auto n : sim::codec_names())
        codecs += (codecs.empty() ? "" : ", ") + std::string(n);

    auto add_common = [&](CLI::App* sub) {
        sub->add_option("--codec,-c", codec_name, "codec: " + codecs)
            ->check(CLI::IsMember(
                std::vector<std::string>(sim::codec_names().begin(), sim::codec_names().end())))
            ->capture_default_str();
        sub->add_flag("--hex,-x", hex, "read and write lowercase hex instead of raw bytes");
        sub->add_option("file", path, "input file (default: standard input)");
    };
    auto* enc = app.add_subcommand(
        "encode",
        "read one logical JSON message [type, id, content], write its frame (header included)");
    add_common(enc);
    auto* dec = app.add_subcommand(
        "decode", "read one or more concatenated frames, print one logical JSON line per frame");
    add_common(dec);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : exit_usage;
    }

    try {
        if (enc->parsed()) encode(codec_name, hex, path);
        if (dec->parsed()) decode(codec_name, hex, path);
    } catch (const bad_input& e) {
        std::cout.flush();
        std::cerr << "sim-frame: " << e.what() << '\n';
        return exit_bad_input;
    }
    return 0;
}

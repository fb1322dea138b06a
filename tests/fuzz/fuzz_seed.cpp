// fuzz-seed <target> <vectors-dir> <corpus-dir>: writes the seed corpus of one fuzz target from
// the aiomas golden vectors (scripts/fuzz runs it before each target), one file per input, and
// copies in the checked-in seeds of tests/fuzz/seeds/<target>/ (inputs past runs found).
//
// Real aiomas traffic makes the best seeds: it reaches the decoders' common paths at once, and
// the fuzzer mutates from there. The vector files are read with libsim's own JSON codec.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sim/codec/codec.hpp>
#include <sim/codec/lz4_codec.hpp>
#include <sim/codec/value.hpp>
#include <sim/framing/frame.hpp>

namespace fs = std::filesystem;

namespace {

using byte_string = std::vector<std::byte>;

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    if (!in && !in.eof()) throw std::runtime_error("cannot read " + path.string());
    return std::move(text).str();
}

byte_string from_hex(std::string_view hex) {
    auto digit = [&](char c) -> unsigned {
        if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
        if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
        if (c >= 'A' && c <= 'F') return static_cast<unsigned>(c - 'A' + 10);
        throw std::runtime_error("invalid hex digit '" + std::string(1, c) + "'");
    };
    if (hex.size() % 2 != 0) throw std::runtime_error("odd number of hex digits");
    byte_string out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        out.push_back(static_cast<std::byte>(digit(hex[i]) << 4 | digit(hex[i + 1])));
    }
    return out;
}

// Every vector's frame_hex, in file order, checked against its own header so that a damaged file
// does not silently seed garbage.
std::vector<byte_string> load_frames(const fs::path& file) {
    auto json = sim::make_codec("json", {.decode_envelopes = false});
    const sim::value doc = json->decode(read_file(file));
    std::vector<byte_string> frames;
    for (const sim::value& vector : doc["vectors"].as_array()) {
        byte_string frame = from_hex(vector["frame_hex"].as_string());
        if (frame.size() < sim::frame_header_size ||
            sim::read_frame_header(frame.data()) != frame.size() - sim::frame_header_size) {
            throw std::runtime_error(file.string() + ": vector " + vector["name"].as_string() +
                                     ": frame length does not match its header");
        }
        frames.push_back(std::move(frame));
    }
    if (frames.empty()) throw std::runtime_error(file.string() + ": no vectors");
    return frames;
}

std::vector<byte_string> payloads_of(const std::vector<byte_string>& frames) {
    std::vector<byte_string> out;
    for (const auto& f : frames) {
        out.emplace_back(f.begin() + static_cast<std::ptrdiff_t>(sim::frame_header_size), f.end());
    }
    return out;
}

byte_string to_bytes(const sim::byte_buffer& b) {
    return byte_string(b.data(), b.data() + b.size());
}

// Messages whose payload is long and repetitive: the vectors are mostly short, and a compressing
// codec stores short payloads, so without these the compressed paths would start unseeded.
std::vector<sim::value> repetitive_messages() {
    std::vector<sim::value> out;
    sim::array ticks;
    for (int i = 0; i < 1000; ++i)
        ticks.emplace_back("tick");
    out.emplace_back(
        sim::array{0, 1, sim::array{"agents/0/set_time", std::move(ticks), sim::map{}}});

    sim::array floats;
    for (int i = 0; i < 500; ++i)
        floats.emplace_back(1.5);
    out.emplace_back(sim::array{1, 2, std::move(floats)});

    sim::array points;
    for (int i = 0; i < 200; ++i)
        points.emplace_back(sim::map{{"x", i % 4}, {"y", -(i % 3)}});
    out.emplace_back(sim::array{0, 3, sim::array{"calc/points", std::move(points), sim::map{}}});

    sim::array blobs;
    for (int i = 0; i < 64; ++i)
        blobs.emplace_back(sim::bytes(100, std::byte{0x5a}));
    out.emplace_back(sim::array{1, 4, std::move(blobs)});
    return out;
}

// Each payload re-encoded with `codec`: the same values in the codec's own wire form.
std::vector<byte_string> reencode(const std::vector<byte_string>& msgpack_payloads,
                                  sim::codec& codec) {
    auto msgpack = sim::make_codec("msgpack", {.decode_envelopes = false});
    std::vector<byte_string> out;
    for (const auto& p : msgpack_payloads)
        out.push_back(to_bytes(codec.encode(msgpack->decode(p))));
    for (const auto& v : repetitive_messages())
        out.push_back(to_bytes(codec.encode(v)));
    return out;
}

std::vector<byte_string> lz4_seeds(const std::vector<byte_string>& msgpack_payloads) {
    std::vector<byte_string> out;
    // The default codec stores most vectors (they are short) and compresses the long ones; the
    // two variants force each form onto every vector.
    auto default_lz4 = sim::make_codec("msgpack-lz4", {.decode_envelopes = false});
    sim::lz4_codec always_try({.decode_envelopes = false}, 0);
    sim::lz4_codec never_compress({.decode_envelopes = false}, SIZE_MAX);
    for (sim::codec* c : {default_lz4.get(), static_cast<sim::codec*>(&always_try),
                          static_cast<sim::codec*>(&never_compress)}) {
        auto seeds = reencode(msgpack_payloads, *c);
        out.insert(out.end(), std::make_move_iterator(seeds.begin()),
                   std::make_move_iterator(seeds.end()));
    }
    return out;
}

byte_string concat(const byte_string& a, const byte_string& b) {
    byte_string out = a;
    out.insert(out.end(), b.begin(), b.end());
    return out;
}

// Whole frames of every codec, plus pairs of consecutive frames: streams where one frame
// follows another are where a reader's buffer handling goes wrong.
std::vector<byte_string> frame_seeds(const fs::path& dir) {
    std::vector<byte_string> out;
    for (const char* file :
         {"aiomas_json.json", "aiomas_msgpack.json", "aiomas_msgpackblosc.json"}) {
        auto frames = load_frames(dir / file);
        for (std::size_t i = 0; i + 1 < frames.size() && i < 16; i += 4) {
            out.push_back(concat(frames[i], frames[i + 1]));
        }
        out.insert(out.end(), std::make_move_iterator(frames.begin()),
                   std::make_move_iterator(frames.end()));
    }
    return out;
}

// The checked-in seeds of a target, by file name: inputs that once broke a property, kept so that
// every run starts from them.
std::vector<std::pair<std::string, byte_string>> checked_in_seeds(std::string_view target) {
    std::vector<std::pair<std::string, byte_string>> out;
    const fs::path dir = fs::path(SIM_FUZZ_SEEDS_DIR) / std::string(target);
    if (!fs::is_directory(dir)) return out;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (!entry.is_regular_file()) continue;
        const std::string data = read_file(entry.path());
        const auto* p = reinterpret_cast<const std::byte*>(data.data());
        out.emplace_back(entry.path().filename().string(), byte_string(p, p + data.size()));
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<byte_string> seeds_for(std::string_view target, const fs::path& dir) {
    if (target == "json") return payloads_of(load_frames(dir / "aiomas_json.json"));
    if (target == "msgpack") return payloads_of(load_frames(dir / "aiomas_msgpack.json"));
    if (target == "msgpack_blosc") {
        auto out = payloads_of(load_frames(dir / "aiomas_msgpackblosc.json"));
        auto blosc = sim::make_codec("msgpack-blosc", {.decode_envelopes = false});
        for (const auto& v : repetitive_messages())
            out.push_back(to_bytes(blosc->encode(v)));
        return out;
    }
    if (target == "msgpack_lz4")
        return lz4_seeds(payloads_of(load_frames(dir / "aiomas_msgpack.json")));
    if (target == "frame") return frame_seeds(dir);
    throw std::invalid_argument("unknown fuzz target \"" + std::string(target) +
                                "\" (known: json, msgpack, msgpack_blosc, msgpack_lz4, frame)");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s <target> <vectors-dir> <corpus-dir>\n", argv[0]);
        return 2;
    }
    const std::string_view target = argv[1];
    const fs::path vectors = argv[2];
    const fs::path corpus = argv[3];
    try {
        if (!fs::is_directory(vectors)) {
            std::fprintf(stderr, "fuzz-seed: the aiomas vectors directory %s does not exist\n",
                         vectors.c_str());
            return 1;
        }
        // A set: the variants of a codec often agree on short payloads, and duplicates would
        // only clutter the corpus.
        std::set<byte_string> seeds;
        for (auto& s : seeds_for(target, vectors))
            seeds.insert(std::move(s));
        fs::create_directories(corpus);
        std::size_t i = 0;
        for (const auto& s : seeds) {
            // Stable names: rerunning overwrites the seeds instead of piling up copies.
            char name[64];
            std::snprintf(name, sizeof name, "seed-%s-%03zu", std::string(target).c_str(), i++);
            std::ofstream out(corpus / name, std::ios::binary | std::ios::trunc);
            out.write(reinterpret_cast<const char*>(s.data()),
                      static_cast<std::streamsize>(s.size()));
            if (!out) throw std::runtime_error("cannot write " + (corpus / name).string());
        }
        // Under their own names: a crash report that names one says which old bug is back.
        const auto kept = checked_in_seeds(target);
        for (const auto& [file, data] : kept) {
            const fs::path path = corpus / ("kept-" + std::string(target) + "-" + file);
            std::ofstream out(path, std::ios::binary | std::ios::trunc);
            out.write(reinterpret_cast<const char*>(data.data()),
                      static_cast<std::streamsize>(data.size()));
            if (!out) throw std::runtime_error("cannot write " + path.string());
        }
        std::printf("    fuzz-seed: %zu seeds and %zu checked-in seeds for %s in %s\n",
                    seeds.size(), kept.size(), std::string(target).c_str(), corpus.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fuzz-seed: %s\n", e.what());
        return 1;
    }
    return 0;
}

// libFuzzer target: sim::frame_reader fed the input in chunks of many shapes, against the same
// reader fed everything at once and against a direct reading of the frame format; then each
// payload through decode_message and back through encode_frame.
//
// The whole input is the byte stream, so the seeds (real aiomas frames) are valid streams as they
// are. The chunking is chosen by the input's last byte: that byte is payload in a well-formed
// stream, so varying it changes how the stream is cut without breaking its framing.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include <sim/channel/message.hpp>
#include <sim/framing/frame.hpp>

#include "fuzz_check.hpp"

namespace {

// Small enough that a header can exceed it within the 64 KiB inputs scripts/fuzz allows, so both
// the "too large" and the "complete frame" paths are reachable.
constexpr std::size_t max_payload = std::size_t{1} << 20;

using payload_bytes = std::vector<std::byte>;

struct outcome {
    std::vector<payload_bytes> payloads;
    std::error_code error;
    std::uint64_t offset = 0;
    std::size_t pending = 0;
    std::uint64_t announced = 0;
};

// Copies each payload out at once: the span is invalidated by the reader's next call.
void drain(sim::frame_reader& reader, outcome& out) {
    std::error_code ec;
    while (auto payload = reader.next(ec)) {
        if (ec) sim_fuzz::fail("next() returned a payload together with an error", ec.message());
        if (payload->empty()) sim_fuzz::fail("next() returned an empty payload");
        out.payloads.emplace_back(payload->begin(), payload->end());
    }
    if (ec != reader.error()) {
        sim_fuzz::fail("next() reported a different error than error()",
                       ec.message() + " vs " + reader.error().message());
    }
}

void finish(const sim::frame_reader& reader, outcome& out) {
    out.error = reader.error();
    out.offset = reader.offset();
    out.pending = reader.pending();
    out.announced = reader.announced();
}

outcome read_at_once(std::span<const std::byte> stream) {
    sim::frame_reader reader(max_payload);
    outcome out;
    reader.feed(stream);
    drain(reader, out);
    finish(reader, out);
    return out;
}

// xorshift64: a cheap deterministic generator, so a crash reproduces from its input alone.
struct rng {
    std::uint64_t state;
    std::uint64_t next() noexcept {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
    // Mostly small sizes (where header and payload boundaries get split), sometimes large ones.
    std::size_t chunk_size() noexcept {
        std::uint64_t r = next();
        unsigned bits = static_cast<unsigned>(r & 15);
        return 1 + static_cast<std::size_t>((r >> 4) & ((std::uint64_t{1} << bits) - 1));
    }
};

// Feeds `stream` in chunks chosen by `selector`: a fixed size, one byte at a time, random sizes
// through feed(), or random sizes mixing feed() with prepare()/commit(); draining after every
// chunk or only after several, so that complete frames also pile up in the buffer.
outcome read_in_chunks(std::span<const std::byte> stream, std::uint8_t selector) {
    sim::frame_reader reader(max_payload);
    outcome out;
    rng random{0x9e3779b97f4a7c15ULL ^ (std::uint64_t{selector} << 32) ^ stream.size()};
    const unsigned mode = selector & 3u;
    const unsigned drain_every = 1 + ((selector >> 2) & 3u);
    const std::size_t fixed = 1 + (selector >> 4) * 7u;

    std::size_t pos = 0;
    unsigned chunks = 0;
    while (pos < stream.size()) {
        std::size_t n = mode == 0 ? fixed : mode == 1 ? 1 : random.chunk_size();
        if (n > stream.size() - pos) n = stream.size() - pos;
        if (mode == 3 && (random.next() & 1) != 0) {
            // Ask for more room than is used now and then: commit() must take only what it is told.
            std::size_t room = n + static_cast<std::size_t>(random.next() & 63);
            std::span<std::byte> dst = reader.prepare(room);
            if (dst.size() < room) sim_fuzz::fail("prepare(n) returned fewer than n bytes");
            std::memcpy(dst.data(), stream.data() + pos, n);
            reader.commit(n);
        } else {
            reader.feed(stream.subspan(pos, n));
        }
        pos += n;
        if (++chunks % drain_every == 0) drain(reader, out);
    }
    drain(reader, out);
    finish(reader, out);
    return out;
}

// The frame format read directly, as aiomas-protocol.md §2.1 and frame.hpp describe it.
outcome read_by_spec(std::span<const std::byte> stream) {
    outcome out;
    std::size_t pos = 0;
    while (stream.size() - pos >= sim::frame_header_size) {
        const std::byte* p = stream.data() + pos;
        std::uint32_t n = static_cast<std::uint32_t>(p[0]) << 24 |
                          static_cast<std::uint32_t>(p[1]) << 16 |
                          static_cast<std::uint32_t>(p[2]) << 8 | static_cast<std::uint32_t>(p[3]);
        out.announced = n;
        if (n == 0) {
            out.error = sim::errc::empty_frame;
            break;
        }
        if (n > max_payload) {
            out.error = sim::errc::frame_too_large;
            break;
        }
        if (stream.size() - pos - sim::frame_header_size < n) break;
        const std::byte* payload = p + sim::frame_header_size;
        out.payloads.emplace_back(payload, payload + n);
        pos += sim::frame_header_size + n;
    }
    out.offset = pos;
    out.pending = stream.size() - pos;
    return out;
}

std::string describe(const outcome& o) {
    std::string s = std::to_string(o.payloads.size()) + " payloads (sizes";
    for (const auto& p : o.payloads)
        s += " " + std::to_string(p.size());
    s += "), error \"" + o.error.message() + "\", offset " + std::to_string(o.offset) +
         ", pending " + std::to_string(o.pending) + ", announced " + std::to_string(o.announced);
    return s;
}

void compare(const outcome& expected, const outcome& actual, const char* what,
             bool compare_announced) {
    if (expected.payloads != actual.payloads || expected.error != actual.error ||
        expected.offset != actual.offset || expected.pending != actual.pending ||
        (compare_announced && expected.announced != actual.announced)) {
        sim_fuzz::fail(what, "expected: " + describe(expected) + "\nactual:   " + describe(actual));
    }
}

// Whatever decodes as a message must come back unchanged through encode_frame and a reader.
void check_message(sim::codec& c, std::span<const std::byte> payload) {
    sim::message m;
    try {
        m = sim::decode_message(c, payload);
    } catch (const sim::serialization_error&) {
        return;
    } catch (const sim::protocol_error&) {
        return;
    }
    sim::byte_buffer frame;
    try {
        sim::encode_frame(c, m, frame);
    } catch (const sim::error& e) {
        sim_fuzz::fail("a decoded message does not re-encode", e.what());
    }
    sim::frame_reader reader(max_payload);
    reader.feed(frame.span());
    std::error_code ec;
    auto again_payload = reader.next(ec);
    if (!again_payload) sim_fuzz::fail("encode_frame wrote no complete frame", ec.message());
    sim::message again;
    try {
        again = sim::decode_message(c, *again_payload);
    } catch (const sim::error& e) {
        sim_fuzz::fail("encode_frame wrote a frame that does not decode", e.what());
    }
    if (!(again == m)) {
        sim_fuzz::fail("a message changed through encode_frame and decode_message",
                       "id " + sim_fuzz::show(m.id) + " -> " + sim_fuzz::show(again.id) +
                           "\ncontent " + sim_fuzz::show(m.content) + " -> " +
                           sim_fuzz::show(again.content));
    }
    if (reader.next(ec) || ec || reader.pending() != 0) {
        sim_fuzz::fail("encode_frame wrote more than one frame");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto stream = sim_fuzz::as_bytes(data, size);
    const outcome spec = read_by_spec(stream);
    const outcome at_once = read_at_once(stream);
    // Where fewer than a header's bytes are left and nothing failed, "announced" is not specified.
    const bool announced_defined = spec.error || spec.pending >= sim::frame_header_size;
    compare(spec, at_once, "frame_reader fed at once disagrees with the frame format",
            announced_defined);
    if (size != 0) {
        const outcome chunked = read_in_chunks(stream, data[size - 1]);
        compare(at_once, chunked, "frame_reader gives a different result when fed in chunks", true);
    }

    auto c = sim::make_codec("msgpack", {.decode_envelopes = false});
    for (const auto& payload : at_once.payloads)
        check_message(*c, payload);
    return 0;
}

// Codec benchmarks: encode and decode of two payloads with each of sim's codecs (json, msgpack,
// msgpack-blosc, msgpack-lz4), beside their floors measured in the same run: msgpack-cxx's own
// packer and unpacker, RapidJSON's Writer and DOM parser, and memcpy of the payload bytes.
// All single-threaded: one op encodes or decodes one message on the calling thread, with no
// cross-thread hand-off, framing or I/O.
//
// Payloads:
//   request      [0, 42, ["agents/3/set_value", [1.5, "abc", [1, 2, 3]], {"k": true}]]
//   doubles8192  an array of 8,192 doubles (17 significant digits, none integral)
//
// Every sim benchmark reports ratio_to_floor = (our ns/op) / (floor ns/op), the label naming the
// floor and floor_ns giving the floor's ns/op that the ratio used (measured once per process by
// bench_support.hpp, so it is close to, not equal to, the floor benchmark's own line). Targets:
// msgpack within 1.5x of msgpack-cxx; JSON decode within 2x of RapidJSON's DOM. msgpack-blosc
// and msgpack-lz4 are compared with msgpack-cxx without compression: informational.

#include <cmath>
#include <cstddef>
#include <cstring>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <msgpack.hpp>

#include <sim/codec/codec.hpp>

#include "bench_support.hpp"

namespace {

using sim::bench::floor_ns_per_op;
using sim::bench::report_floor;
using sim::bench::run_op;

// ---- payloads -----------------------------------------------------------------------------------

// The request as an application holds it before encoding, for the floors to start from native
// data: [type, id, [method, args, kwargs]].
struct call_content {
    std::string method;
    std::tuple<double, std::string, std::vector<int>> args;
    std::map<std::string, bool> kwargs;
    MSGPACK_DEFINE(method, args, kwargs)  // packs as an array; no ";" (-Wpedantic)
};

struct request_message {
    int type = 0;
    int id = 0;
    call_content content;
    MSGPACK_DEFINE(type, id, content)
};

/// One logical payload: the sim::value our codecs encode and the same data as native C++ types
/// for the floors.
template <class Native>
struct payload_case {
    std::string_view name;
    sim::value value;
    Native native;
};

const payload_case<request_message>& request_case() {
    static const payload_case<request_message> c{
        "request",
        sim::array{0, 42,
                   sim::array{"agents/3/set_value", sim::array{1.5, "abc", sim::array{1, 2, 3}},
                              sim::map{{"k", true}}}},
        request_message{0, 42, {"agents/3/set_value", {1.5, "abc", {1, 2, 3}}, {{"k", true}}}},
    };
    return c;
}

const payload_case<std::vector<double>>& doubles_case() {
    static const payload_case<std::vector<double>> c = [] {
        constexpr std::size_t count = 8192;
        // Non-integral on purpose: msgpack-cxx packs integral doubles as integers, and full
        // 17-digit values are the realistic, expensive case for JSON.
        std::vector<double> native(count);
        sim::array items;
        items.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
            native[i] = 1000.0 * std::sin(static_cast<double>(i) + 0.5);
            items.emplace_back(native[i]);
        }
        return payload_case<std::vector<double>>{"doubles8192", std::move(items),
                                                 std::move(native)};
    }();
    return c;
}

sim::byte_buffer sim_payload(std::string_view codec_name, const sim::value& v) {
    return sim::make_codec(codec_name)->encode(v);
}

// RapidJSON has no mapping from C++ types, so the floor writes the document by hand, as an
// application using its Writer would.
template <class Writer>
void write_json(Writer& w, const request_message& r) {
    const auto string = [&](const std::string& s) {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    };
    const auto& [x, s, ints] = r.content.args;
    w.StartArray();
    w.Int(r.type);
    w.Int(r.id);
    w.StartArray();
    string(r.content.method);
    w.StartArray();
    w.Double(x);
    string(s);
    w.StartArray();
    for (int i : ints)
        w.Int(i);
    w.EndArray();
    w.EndArray();
    w.StartObject();
    for (const auto& [key, flag] : r.content.kwargs) {
        w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
        w.Bool(flag);
    }
    w.EndObject();
    w.EndArray();
    w.EndArray();
}

template <class Writer>
void write_json(Writer& w, const std::vector<double>& doubles) {
    w.StartArray();
    for (double d : doubles)
        w.Double(d);
    w.EndArray();
}

// ---- sim's codecs -------------------------------------------------------------------------------

// Encodes into one buffer cleared before each message, as a channel does: capacity is kept, so
// the steady state allocates nothing for the output.
class codec_encode {
  public:
    codec_encode(std::string_view codec_name, const sim::value& v)
        : codec_(sim::make_codec(codec_name)), value_(v) {
        (*this)();
        payload_size_ = out_.size();
    }

    SIM_BENCH_OP void operator()() {
        out_.clear();
        codec_->encode(value_, out_);
        benchmark::DoNotOptimize(out_.data());
        benchmark::ClobberMemory();
    }

    std::size_t payload_size() const { return payload_size_; }
    std::string check() { return {}; }

  private:
    std::unique_ptr<sim::codec> codec_;
    const sim::value& value_;
    sim::byte_buffer out_;
    std::size_t payload_size_ = 0;
};

// Decodes to a fresh value each time (and destroys it), as a receiver does.
class codec_decode {
  public:
    codec_decode(std::string_view codec_name, const sim::value& v)
        : codec_(sim::make_codec(codec_name)), expected_(v), payload_(codec_->encode(v)) {}

    SIM_BENCH_OP void operator()() {
        sim::value v = codec_->decode(payload_.span());
        benchmark::DoNotOptimize(v);
    }

    std::size_t payload_size() const { return payload_.size(); }
    std::string check() {
        return codec_->decode(payload_.span()) == expected_ ? "" : "decoded value differs";
    }

  private:
    std::unique_ptr<sim::codec> codec_;
    const sim::value& expected_;
    sim::byte_buffer payload_;
};

// ---- floors -------------------------------------------------------------------------------------

// Copies the msgpack payload into a buffer of the same size: the speed of light for any codec.
class memcpy_floor {
  public:
    explicit memcpy_floor(sim::byte_buffer payload)
        : source_(std::move(payload)), target_(source_.size()) {}

    SIM_BENCH_OP void operator()() {
        std::memcpy(target_.data(), source_.data(), source_.size());
        benchmark::DoNotOptimize(target_.data());
        benchmark::ClobberMemory();
    }

    std::size_t payload_size() const { return source_.size(); }
    std::string check() { return {}; }

  private:
    sim::byte_buffer source_;
    std::vector<std::byte> target_;
};

// msgpack-cxx's packer on native data, into one sbuffer cleared before each message.
template <class Native>
class msgpack_cxx_pack {
  public:
    /// `ours` is what sim's msgpack codec writes for the same data.
    msgpack_cxx_pack(const Native& data, sim::byte_buffer ours)
        : data_(data), ours_(std::move(ours)) {
        (*this)();
    }

    SIM_BENCH_OP void operator()() {
        buffer_.clear();
        msgpack::packer<msgpack::sbuffer> packer(buffer_);
        packer.pack(data_);
        benchmark::DoNotOptimize(buffer_.data());
        benchmark::ClobberMemory();
    }

    std::size_t payload_size() const { return buffer_.size(); }

    // The floor must write what our codec writes, or the comparison means nothing.
    std::string check() {
        (*this)();
        const bool same = ours_.size() == buffer_.size() &&
                          std::memcmp(ours_.data(), buffer_.data(), ours_.size()) == 0;
        return same ? "" : "msgpack-cxx packs different bytes than sim's msgpack codec";
    }

  private:
    const Native& data_;
    sim::byte_buffer ours_;
    msgpack::sbuffer buffer_;
};

// msgpack-cxx's unpacker: a fresh object_handle (and zone) per message; strings are copied into
// the zone, as sim copies them into the value.
class msgpack_cxx_unpack {
  public:
    explicit msgpack_cxx_unpack(sim::byte_buffer payload) : payload_(std::move(payload)) {}

    SIM_BENCH_OP void operator()() {
        msgpack::object_handle handle =
            msgpack::unpack(reinterpret_cast<const char*>(payload_.data()), payload_.size());
        benchmark::DoNotOptimize(handle);
    }

    std::size_t payload_size() const { return payload_.size(); }
    std::string check() {
        const msgpack::object_handle handle =
            msgpack::unpack(reinterpret_cast<const char*>(payload_.data()), payload_.size());
        return handle.get().type == msgpack::type::ARRAY ? ""
                                                         : "msgpack-cxx did not unpack an array";
    }

  private:
    sim::byte_buffer payload_;
};

// RapidJSON's Writer on native data; the StringBuffer is cleared and the Writer reset for each
// message, so both keep their capacity. It writes compact separators and Grisu2 doubles, so its
// output is a little shorter than ours (Python's ", " and ": " separators).
template <class Native>
class rapidjson_writer {
  public:
    explicit rapidjson_writer(const Native& data) : data_(data), writer_(buffer_) { (*this)(); }

    SIM_BENCH_OP void operator()() {
        buffer_.Clear();
        writer_.Reset(buffer_);
        write_json(writer_, data_);
        benchmark::DoNotOptimize(buffer_);
        benchmark::ClobberMemory();
    }

    std::size_t payload_size() const { return buffer_.GetSize(); }
    std::string check() {
        (*this)();
        return writer_.IsComplete() ? "" : "RapidJSON wrote an incomplete document";
    }

  private:
    const Native& data_;
    rapidjson::StringBuffer buffer_;
    rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

// RapidJSON's DOM parser (default flags) on exactly the bytes our JSON codec writes, a fresh
// Document per message as a receiver would use. Parse(str, length) because payloads arrive
// length-delimited, not zero-terminated, as they do for our decoder. Default flags are laxer
// than our decoder: no UTF-8 validation, and doubles not always correctly rounded.
class rapidjson_dom_parse {
  public:
    explicit rapidjson_dom_parse(const sim::byte_buffer& payload) : text_(payload.view()) {}

    SIM_BENCH_OP void operator()() {
        rapidjson::Document document;
        document.Parse(text_.data(), text_.size());
        benchmark::DoNotOptimize(document);
    }

    std::size_t payload_size() const { return text_.size(); }
    std::string check() {
        rapidjson::Document document;
        document.Parse(text_.data(), text_.size());
        return !document.HasParseError() && document.IsArray() ? "" : "RapidJSON failed to parse";
    }

  private:
    std::string text_;
};

// ---- registration -------------------------------------------------------------------------------

template <class MakeOp>
auto floor_benchmark(MakeOp make_op) {
    return [make_op](benchmark::State& state) {
        auto op = make_op();
        run_op(state, op);
    };
}

// A sim benchmark (Op is codec_encode or codec_decode) that reports its ratio to the floor made by
// `make_floor`; `floor_key` names the floor's cached timing (the floor benchmark's name).
template <class Op, class MakeFloor>
auto codec_benchmark(std::string_view codec_name, const sim::value& v, std::string floor_key,
                     std::string floor_label, MakeFloor make_floor) {
    return [=, &v](benchmark::State& state) {
        Op op(codec_name, v);
        const double ours = run_op(state, op);
        report_floor(state, ours, floor_label, floor_ns_per_op(floor_key, make_floor));
    };
}

template <class Native>
void register_case(const payload_case<Native>& c) {
    const std::string suffix = "/" + std::string(c.name);
    const auto add = [](const std::string& name, auto fn) {
        benchmark::RegisterBenchmark(name.c_str(), std::move(fn));
    };

    // The cases are static, so the factories can keep a pointer.
    const auto copy = [c = &c] { return memcpy_floor(sim_payload("msgpack", c->value)); };
    const auto pack = [c = &c] {
        return msgpack_cxx_pack<Native>(c->native, sim_payload("msgpack", c->value));
    };
    const auto unpack = [c = &c] { return msgpack_cxx_unpack(sim_payload("msgpack", c->value)); };
    const auto write = [c = &c] { return rapidjson_writer<Native>(c->native); };
    const auto parse = [c = &c] { return rapidjson_dom_parse(sim_payload("json", c->value)); };

    add("floor/memcpy" + suffix, [copy](benchmark::State& state) {
        auto op = copy();
        run_op(state, op);
        state.SetLabel("msgpack payload");
    });
    add("floor/msgpack-cxx/pack" + suffix, floor_benchmark(pack));
    add("floor/msgpack-cxx/unpack" + suffix, floor_benchmark(unpack));
    add("floor/rapidjson/writer" + suffix, floor_benchmark(write));
    add("floor/rapidjson/dom-parse" + suffix, floor_benchmark(parse));

    for (std::string_view codec : sim::codec_names()) {
        const std::string encode = "codec/encode/" + std::string(codec) + suffix;
        const std::string decode = "codec/decode/" + std::string(codec) + suffix;
        if (codec == "json") {
            add(encode,
                codec_benchmark<codec_encode>(codec, c.value, "floor/rapidjson/writer" + suffix,
                                              "rapidjson-writer", write));
            add(decode,
                codec_benchmark<codec_decode>(codec, c.value, "floor/rapidjson/dom-parse" + suffix,
                                              "rapidjson-dom", parse));
            continue;
        }
        // msgpack-blosc and msgpack-lz4 against the uncompressed floor: informational.
        const std::string label =
            codec == "msgpack" ? "msgpack-cxx"
                               : "msgpack-cxx (+" + std::string(codec.substr(codec.find('-') + 1)) +
                                     ", informational)";
        add(encode, codec_benchmark<codec_encode>(codec, c.value, "floor/msgpack-cxx/pack" + suffix,
                                                  label, pack));
        add(decode, codec_benchmark<codec_decode>(
                        codec, c.value, "floor/msgpack-cxx/unpack" + suffix, label, unpack));
    }
}

[[maybe_unused]] const bool registered = [] {
    register_case(request_case());
    register_case(doubles_case());
    return true;
}();

}  // namespace

// Random nested values round-trip through every codec, and the msgpack and JSON codecs agree with
// independent implementations (msgpack-cxx, RapidJSON).

#include <catch2/catch.hpp>

#include <cmath>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <msgpack.hpp>

#include <sim/codec/codec.hpp>

#include "support/test_support.hpp"

using sim::array;
using sim::map;
using sim::value;
using sim_test::value_generator;

namespace {

constexpr int rounds = 400;

value_generator::profile profile_for(std::string_view codec) {
    if (codec == "json") return {.bytes = false, .big_integers = true, .any_keys = false};
    return {.bytes = true, .big_integers = false, .any_keys = true};
}

// Compares a value with what msgpack-cxx decoded from our bytes.
bool same(const value& v, const msgpack::object& o) {
    switch (v.kind()) {
        case sim::value_kind::nil:
            return o.type == msgpack::type::NIL;
        case sim::value_kind::boolean:
            return o.type == msgpack::type::BOOLEAN && o.via.boolean == v.as_bool();
        case sim::value_kind::int64: {
            auto i = *v.get_if<std::int64_t>();
            if (i >= 0)
                return o.type == msgpack::type::POSITIVE_INTEGER &&
                       o.via.u64 == static_cast<std::uint64_t>(i);
            return o.type == msgpack::type::NEGATIVE_INTEGER && o.via.i64 == i;
        }
        case sim::value_kind::uint64:
            return o.type == msgpack::type::POSITIVE_INTEGER &&
                   o.via.u64 == *v.get_if<std::uint64_t>();
        case sim::value_kind::float64: {
            if (o.type != msgpack::type::FLOAT64) return false;
            double a = *v.get_if<double>(), b = o.via.f64;
            return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0;
        }
        case sim::value_kind::string:
            return o.type == msgpack::type::STR &&
                   std::string_view(o.via.str.ptr, o.via.str.size) == *v.get_if<std::string>();
        case sim::value_kind::bytes: {
            const auto& b = *v.get_if<sim::bytes>();
            return o.type == msgpack::type::BIN && o.via.bin.size == b.size() &&
                   (b.empty() || std::memcmp(o.via.bin.ptr, b.data(), b.size()) == 0);
        }
        case sim::value_kind::array: {
            const auto& a = *v.get_if<array>();
            if (o.type != msgpack::type::ARRAY || o.via.array.size != a.size()) return false;
            for (std::size_t i = 0; i < a.size(); ++i) {
                if (!same(a[i], o.via.array.ptr[i])) return false;
            }
            return true;
        }
        case sim::value_kind::map: {
            const auto& m = *v.get_if<map>();
            if (o.type != msgpack::type::MAP || o.via.map.size != m.size()) return false;
            std::size_t i = 0;
            for (const auto& [k, x] : m) {
                if (!same(k, o.via.map.ptr[i].key) || !same(x, o.via.map.ptr[i].val)) return false;
                ++i;
            }
            return true;
        }
        default:
            return false;
    }
}

}  // namespace

TEST_CASE("random values round-trip through every codec", "[property]") {
    for (auto name : sim::codec_names()) {
        CAPTURE(name);
        auto codec = sim::make_codec(name);
        value_generator gen(0x5eed0000 + name.size(), profile_for(name));
        for (int i = 0; i < rounds; ++i) {
            value v = gen.next();
            CAPTURE(i);
            sim::byte_buffer first = codec->encode(v);
            value back = codec->decode(first.span());
            REQUIRE(back == v);
            // Canonical: the decoded value encodes to the same bytes.
            REQUIRE(codec->encode(back).view() == first.view());
        }
    }
}

TEST_CASE("msgpack-cxx reads what we write, and we read what it writes", "[property]") {
    auto codec = sim::make_codec("msgpack");
    value_generator gen(42, profile_for("msgpack"));
    for (int i = 0; i < rounds; ++i) {
        CAPTURE(i);
        value v = gen.next();
        sim::byte_buffer ours = codec->encode(v);
        msgpack::object_handle oh =
            msgpack::unpack(reinterpret_cast<const char*>(ours.data()), ours.size());
        REQUIRE(same(v, oh.get()));

        // msgpack-cxx re-packs what it read in its own forms (integral doubles become integers,
        // for one); both decoders must read those bytes alike.
        msgpack::sbuffer theirs;
        msgpack::pack(theirs, oh.get());
        msgpack::object_handle again = msgpack::unpack(theirs.data(), theirs.size());
        REQUIRE(
            same(codec->decode(sim_test::as_bytes(std::string_view(theirs.data(), theirs.size()))),
                 again.get()));
    }
}

TEST_CASE("RapidJSON reads what our JSON codec writes", "[property]") {
    auto codec = sim::make_codec("json");
    // Finite numbers only: NaN and Infinity are Python extensions RapidJSON rejects by default.
    value_generator gen(7, {.bytes = false, .big_integers = false, .any_keys = false});
    int compared = 0;
    for (int i = 0; i < rounds; ++i) {
        value v = gen.next();
        std::string text(codec->encode(v).view());
        if (text.find("NaN") != std::string::npos || text.find("Infinity") != std::string::npos)
            continue;
        rapidjson::Document doc;
        doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
        CAPTURE(text);
        REQUIRE_FALSE(doc.HasParseError());
        // What RapidJSON writes back (its own number and string forms) decodes to the same value.
        rapidjson::StringBuffer buffer;
        rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
        doc.Accept(writer);
        REQUIRE(codec->decode(std::string_view(buffer.GetString(), buffer.GetSize())) == v);
        ++compared;
    }
    CHECK(compared > rounds / 2);
}

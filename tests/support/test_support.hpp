#pragma once
// Helpers shared by the tests: hex, the golden aiomas vectors, and random values.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <sim/codec/codec.hpp>
#include <sim/codec/logical.hpp>
#include <sim/core/byte_buffer.hpp>
#include <sim/core/error.hpp>

namespace sim_test {

/// What a remote call failed with, as "Type: message"; "(no error)" if it did not fail.
inline std::string remote_message(const std::function<void()>& call) {
    try {
        call();
    } catch (const sim::remote_error& e) {
        return e.type() + ": " + e.message();
    }
    return "(no error)";
}

inline std::string to_hex(std::span<const std::byte> b) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (std::byte x : b) {
        s.push_back(digits[static_cast<unsigned>(x) >> 4]);
        s.push_back(digits[static_cast<unsigned>(x) & 0xf]);
    }
    return s;
}

inline std::vector<std::byte> from_hex(std::string_view s) {
    if (s.size() % 2 != 0) throw std::invalid_argument("odd hex");
    auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    std::vector<std::byte> out(s.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<std::byte>(nib(s[2 * i]) << 4 | nib(s[2 * i + 1]));
    }
    return out;
}

inline std::span<const std::byte> as_bytes(std::string_view s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// One golden vector file, parsed with our own JSON codec (raw view: no envelope hooks).
struct vector_file {
    std::string codec;  // our codec name
    sim::value doc;
};

inline vector_file load_vectors(const std::string& file, const std::string& codec) {
    auto json = sim::make_codec("json", sim::codec_options{.decode_envelopes = false});
    return {codec, json->decode(read_file(std::string(SIM_VECTORS_DIR) + "/" + file))};
}

inline std::vector<vector_file> all_vector_files() {
    return {load_vectors("aiomas_json.json", "json"),
            load_vectors("aiomas_msgpack.json", "msgpack"),
            load_vectors("aiomas_msgpackblosc.json", "msgpack-blosc")};
}

/// Random values for property tests; deterministic for a seed.
class value_generator {
  public:
    struct profile {
        bool bytes = true;         // msgpack can carry bytes; JSON cannot
        bool big_integers = true;  // JSON can carry them; msgpack cannot
        bool any_keys = true;      // msgpack keys may be any value; JSON keys are strings
        int max_depth = 6;
    };

    value_generator(std::uint64_t seed, profile p) : rng_(seed), profile_(p) {}

    sim::value next(int depth = 0) {
        int kinds = depth >= profile_.max_depth ? 9 : 11;
        switch (pick(kinds)) {
            case 0:
                return {};
            case 1:
                return sim::value(pick(2) == 1);
            case 2:
                return sim::value(small_int());
            case 3:
                return sim::value(static_cast<std::int64_t>(rng_()));
            case 4:
                return sim::value(static_cast<std::uint64_t>(INT64_MAX) + 1 + (rng_() >> 1));
            case 5:
                return sim::value(random_double());
            case 6:
                return sim::value(random_string());
            case 7:
                if (profile_.bytes) return sim::value(random_bytes());
                return sim::value(random_string());
            case 8:
                if (profile_.big_integers) return sim::value(random_big());
                return sim::value(small_int());
            case 9: {
                sim::array a;
                int n = pick(pick(4) == 0 ? 40 : 5);
                for (int i = 0; i < n; ++i)
                    a.push_back(next(depth + 1));
                return sim::value(std::move(a));
            }
            default: {
                sim::map m;
                int n = pick(pick(4) == 0 ? 40 : 5);
                for (int i = 0; i < n; ++i) {
                    sim::value key = profile_.any_keys && pick(3) == 0
                                         ? next(profile_.max_depth)
                                         : sim::value(random_string());
                    m.insert_or_assign(std::move(key), next(depth + 1));
                }
                return sim::value(std::move(m));
            }
        }
    }

  private:
    int pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint64_t>(n)); }

    std::int64_t small_int() {
        static constexpr std::int64_t edges[] = {
            0,         1,        -1,     31,           32,           -32,       -33,
            127,       128,      255,    256,          -128,         -129,      65535,
            65536,     -32768,   -32769, 4294967295LL, 4294967296LL, INT32_MIN, INT32_MIN - 1LL,
            INT64_MAX, INT64_MIN};
        if (pick(2) == 0) return edges[pick(static_cast<int>(std::size(edges)))];
        return static_cast<std::int64_t>(rng_() % 2001) - 1000;
    }

    double random_double() {
        switch (pick(6)) {
            case 0:
                return std::numeric_limits<double>::quiet_NaN();
            case 1:
                return pick(2) ? std::numeric_limits<double>::infinity()
                               : -std::numeric_limits<double>::infinity();
            case 2:
                return pick(2) ? 0.0 : -0.0;
            case 3:
                return static_cast<double>(small_int()) / 8.0;
            default: {
                double d;
                do {
                    std::uint64_t bits = rng_();
                    std::memcpy(&d, &bits, sizeof d);
                } while (std::isnan(d));
                return d;
            }
        }
    }

    std::string random_string() {
        static constexpr std::string_view pieces[] = {"a",
                                                      "Z",
                                                      "0",
                                                      " ",
                                                      "\"",
                                                      "\\",
                                                      "/",
                                                      "\n",
                                                      "\t",
                                                      "\b",
                                                      "\f",
                                                      "\r",
                                                      std::string_view("\0", 1),
                                                      "\x1f",
                                                      "\x7f",
                                                      "\xc3\xa9",
                                                      "\xe2\x82\xac",
                                                      "\xf0\x9f\x9a\x80",
                                                      "\xed\x9f\xbf",
                                                      "\xee\x80\x80",
                                                      "\xf4\x8f\xbf\xbf",
                                                      "agents/3/set_value",
                                                      "__type__"};
        std::string s;
        int n = pick(pick(8) == 0 ? 300 : 12);
        for (int i = 0; i < n; ++i)
            s += pieces[pick(static_cast<int>(std::size(pieces)))];
        // A map key of exactly "__type__" is an envelope by aiomas' rules, not a plain map.
        if (s == "__type__") s += '!';
        return s;
    }

    sim::bytes random_bytes() {
        sim::bytes b(static_cast<std::size_t>(pick(pick(8) == 0 ? 70000 : 40)));
        for (auto& x : b)
            x = static_cast<std::byte>(rng_());
        return b;
    }

    sim::big_integer random_big() {
        std::string digits = pick(2) ? "-" : "";
        digits += static_cast<char>('1' + pick(9));
        int n = 19 + pick(40);
        for (int i = 0; i < n; ++i)
            digits += static_cast<char>('0' + pick(10));
        return sim::big_integer(digits);
    }

    std::mt19937_64 rng_;
    profile profile_;
};

}  // namespace sim_test

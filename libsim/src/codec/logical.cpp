#include <sim/codec/json_codec.hpp>
#include <sim/codec/logical.hpp>

#include <cmath>
#include <limits>

namespace sim {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

std::string to_hex(const bytes& b) {
    std::string s;
    s.reserve(b.size() * 2);
    for (std::byte x : b) {
        auto c = static_cast<unsigned>(x);
        s.push_back(hex_digits[c >> 4]);
        s.push_back(hex_digits[c & 0xf]);
    }
    return s;
}

bytes from_hex(std::string_view s) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    if (s.size() % 2 != 0) throw serialization_error("$bytes: odd number of hex digits");
    bytes b(s.size() / 2);
    for (std::size_t i = 0; i < b.size(); ++i) {
        int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0) throw serialization_error("$bytes: invalid hex digit");
        b[i] = static_cast<std::byte>(hi << 4 | lo);
    }
    return b;
}

value marker(std::string_view name, value v) {
    map m;
    m.insert_or_assign(value(name), std::move(v));
    return value(std::move(m));
}

}  // namespace

value to_logical(const value& v, const logical_options& o) {
    switch (v.kind()) {
        case value_kind::bytes:
            return marker("$bytes", to_hex(*v.get_if<bytes>()));
        case value_kind::big_integer:
            // JSON itself holds any integer; the marker shows that the wire type was a big one.
            if (o.big_integers_as_numbers) return v;
            return marker("$bigint", v.get_if<big_integer>()->str());
        case value_kind::float64: {
            double d = *v.get_if<double>();
            if (std::isnan(d)) return marker("$float", "nan");
            if (std::isinf(d)) return marker("$float", d < 0 ? "-inf" : "inf");
            return v;
        }
        case value_kind::array: {
            array out;
            out.reserve(v.size());
            for (const auto& x : *v.get_if<array>())
                out.push_back(to_logical(x, o));
            return value(std::move(out));
        }
        case value_kind::map: {
            const map& m = *v.get_if<map>();
            bool string_keys = true;
            for (const auto& [k, x] : m)
                string_keys = string_keys && k.is_string();
            if (string_keys) {
                map out;
                out.reserve(m.size());
                for (const auto& [k, x] : m)
                    out.insert_or_assign(k, to_logical(x, o));
                return value(std::move(out));
            }
            array pairs;
            pairs.reserve(m.size());
            for (const auto& [k, x] : m)
                pairs.push_back(array{to_logical(k, o), to_logical(x, o)});
            return marker("$map", std::move(pairs));
        }
        case value_kind::object:
            throw serialization_error("the logical notation has no objects (type \"" +
                                      v.as_object().type_name() + "\")");
        default:
            return v;
    }
}

value from_logical(const value& logical) {
    switch (logical.kind()) {
        case value_kind::array: {
            array out;
            out.reserve(logical.size());
            const array& a = *logical.get_if<array>();
            for (std::size_t i = 0; i < a.size(); ++i) {
                out.push_back(detail::at_place(i, [&] { return from_logical(a[i]); }));
            }
            return value(std::move(out));
        }
        case value_kind::map: {
            const map& m = *logical.get_if<map>();
            if (m.size() == 1 && m.front().first.is_string()) {
                const std::string& key = *m.front().first.get_if<std::string>();
                const value& x = m.front().second;
                if (key == "$bytes") return value(from_hex(x.as_string()));
                if (key == "$bigint") {
                    auto b = big_integer::parse(x.as_string());
                    if (!b) throw serialization_error("$bigint: not a decimal integer");
                    return value(std::move(*b));
                }
                if (key == "$float") {
                    const std::string& s = x.as_string();
                    if (s == "nan") return value(std::numeric_limits<double>::quiet_NaN());
                    if (s == "inf") return value(std::numeric_limits<double>::infinity());
                    if (s == "-inf") return value(-std::numeric_limits<double>::infinity());
                    throw serialization_error("$float: expected \"nan\", \"inf\" or \"-inf\"");
                }
                if (key == "$map") {
                    map out;
                    const array& pairs = x.as_array();
                    for (std::size_t i = 0; i < pairs.size(); ++i) {
                        detail::at_place(i, [&] {
                            const array& kv = pairs[i].as_array();
                            if (kv.size() != 2)
                                throw serialization_error("$map: expected [key, value]");
                            out.insert_or_assign(from_logical(kv[0]), from_logical(kv[1]));
                        });
                    }
                    return value(std::move(out));
                }
            }
            map out;
            out.reserve(m.size());
            for (const auto& entry : m) {
                const auto& k = entry.first;
                const auto& x = entry.second;
                out.insert_or_assign(k, detail::at_key(k, [&] { return from_logical(x); }));
            }
            return value(std::move(out));
        }
        default:
            return logical;
    }
}

namespace {

// The notation nests deeper than the value it stands for: a map with a non-string key, one level
// of the value, is three levels of notation ({"$map": [[key, value], ...]}), and bytes, odd
// floats and big integers, no level at all, are one ({"$bytes": ...}). So the JSON of a value
// within codec_options::max_depth levels nests at most 3 x max_depth + 1 levels, and the JSON
// codec of the notation allows that much: whatever a decoder accepts can be shown, and read back.
codec_options notation_options() {
    codec_options options{.decode_envelopes = false};
    options.max_depth = 3 * options.max_depth + 1;
    return options;
}

}  // namespace

std::string to_logical_json(const value& v, const logical_options& o) {
    json_codec json(notation_options());
    return std::string(json.encode(to_logical(v, o)).view());
}

value from_logical_json(std::string_view text) {
    json_codec json(notation_options());
    return from_logical(json.decode(text));
}

}  // namespace sim

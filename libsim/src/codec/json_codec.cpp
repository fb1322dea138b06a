#include <sim/codec/json_codec.hpp>

#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>

#include "codec/atomic_append.hpp"
#include "codec/decode_scratch.hpp"
#include "codec/float_repr.hpp"
#include "codec/utf8.hpp"

namespace sim {

namespace {

// ---- encoding ---------------------------------------------------------------------------------

constexpr char hex_digits[] = "0123456789abcdef";

class json_writer {
  public:
    json_writer(byte_buffer& out, const codec_options& options) : out_(out), options_(options) {}

    void write(const value& v, std::size_t depth) {
        switch (v.kind()) {
            case value_kind::nil:
                put("null");
                return;
            case value_kind::boolean:
                put(*v.get_if<bool>() ? "true" : "false");
                return;
            case value_kind::int64:
                put_integer(*v.get_if<std::int64_t>());
                return;
            case value_kind::uint64:
                put_integer(*v.get_if<std::uint64_t>());
                return;
            case value_kind::big_integer:
                put(v.get_if<big_integer>()->str());
                return;
            case value_kind::float64:
                put_float(*v.get_if<double>());
                return;
            case value_kind::string:
                put_string(*v.get_if<std::string>());
                return;
            case value_kind::bytes:
                throw serialization_error("json cannot encode bytes (use a msgpack codec)");
            case value_kind::array:
                write_array(*v.get_if<array>(), depth);
                return;
            case value_kind::map:
                write_map(*v.get_if<map>(), depth);
                return;
            case value_kind::object:
                write_object(*v.get_if<object>(), depth);
                return;
        }
    }

    void write_items(std::span<const value* const> items, std::size_t depth) {
        check_depth(depth);
        out_.push_back(std::byte{'['});
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (i != 0) put(", ");
            detail::at_place(i, [&] { write(*items[i], depth + 1); });
        }
        out_.push_back(std::byte{']'});
    }

  private:
    void put(std::string_view s) { out_.append(s); }

    template <class Int>
    void put_integer(Int i) {
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, i);
        out_.append(buf, static_cast<std::size_t>(r.ptr - buf));
    }

    void put_float(double d) {
        if (std::isnan(d)) {
            put("NaN");
        } else if (std::isinf(d)) {
            put(d < 0 ? "-Infinity" : "Infinity");
        } else {
            char buf[detail::float_repr_max];
            out_.append(buf, detail::float_repr(d, buf));
        }
    }

    void put_escape(std::uint32_t unit) {
        char e[6] = {'\\',
                     'u',
                     hex_digits[(unit >> 12) & 0xf],
                     hex_digits[(unit >> 8) & 0xf],
                     hex_digits[(unit >> 4) & 0xf],
                     hex_digits[unit & 0xf]};
        out_.append(e, 6);
    }

    // ensure_ascii=True: printable ASCII as is, short escapes for the usual five, \uXXXX
    // (lowercase) for everything else, surrogate pairs above U+FFFF.
    void put_string(std::string_view s) {
        out_.push_back(std::byte{'"'});
        const auto* p = reinterpret_cast<const unsigned char*>(s.data());
        const auto* end = p + s.size();
        const auto* run = p;
        while (p < end) {
            unsigned char c = *p;
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                ++p;
                continue;
            }
            out_.append(run, static_cast<std::size_t>(p - run));
            switch (c) {
                case '"':
                    put("\\\"");
                    ++p;
                    break;
                case '\\':
                    put("\\\\");
                    ++p;
                    break;
                case '\n':
                    put("\\n");
                    ++p;
                    break;
                case '\r':
                    put("\\r");
                    ++p;
                    break;
                case '\t':
                    put("\\t");
                    ++p;
                    break;
                case '\b':
                    put("\\b");
                    ++p;
                    break;
                case '\f':
                    put("\\f");
                    ++p;
                    break;
                default:
                    if (c < 0x80) {
                        put_escape(c);
                        ++p;
                    } else {
                        std::uint32_t cp = 0;
                        std::size_t len = detail::utf8_sequence(p, end, cp);
                        if (len == 0) {
                            throw serialization_error(
                                "json cannot encode a string that is not valid UTF-8 (byte " +
                                std::to_string(p -
                                               reinterpret_cast<const unsigned char*>(s.data())) +
                                " of the string)");
                        }
                        if (cp >= 0x10000) {
                            cp -= 0x10000;
                            put_escape(0xd800 | (cp >> 10));
                            put_escape(0xdc00 | (cp & 0x3ff));
                        } else {
                            put_escape(cp);
                        }
                        p += len;
                    }
            }
            run = p;
        }
        out_.append(run, static_cast<std::size_t>(p - run));
        out_.push_back(std::byte{'"'});
    }

    void check_depth(std::size_t depth) const {
        if (depth >= options_.max_depth) {
            throw serialization_error("json cannot encode nesting deeper than " +
                                      std::to_string(options_.max_depth) + " levels");
        }
    }

    void write_array(const array& a, std::size_t depth) {
        check_depth(depth);
        out_.push_back(std::byte{'['});
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (i != 0) put(", ");
            detail::at_place(i, [&] { write(a[i], depth + 1); });
        }
        out_.push_back(std::byte{']'});
    }

    // Python's json converts str, int, float, bool and None keys to strings; others fail.
    void write_key(const value& k) {
        switch (k.kind()) {
            case value_kind::string:
                put_string(*k.get_if<std::string>());
                return;
            case value_kind::nil:
                put("\"null\"");
                return;
            case value_kind::boolean:
                put(*k.get_if<bool>() ? "\"true\"" : "\"false\"");
                return;
            case value_kind::int64:
            case value_kind::uint64:
            case value_kind::big_integer:
            case value_kind::float64:
                out_.push_back(std::byte{'"'});
                write(k, 0);
                out_.push_back(std::byte{'"'});
                return;
            default:
                throw serialization_error(
                    "json map keys must be strings, numbers, booleans or "
                    "null, not " +
                    k.type_name());
        }
    }

    void write_map(const map& m, std::size_t depth) {
        check_depth(depth);
        out_.push_back(std::byte{'{'});
        bool first = true;
        for (const auto& entry : m) {
            const auto& k = entry.first;
            const auto& x = entry.second;
            if (!first) put(", ");
            first = false;
            detail::at_key(k, [&] {
                write_key(k);
                put(": ");
                write(x, depth + 1);
            });
        }
        out_.push_back(std::byte{'}'});
    }

    void write_object(const object& o, std::size_t depth) {
        if (!options_.decode_envelopes) {
            throw serialization_error("cannot encode object of type \"" + o.type_name() +
                                      "\" with envelopes disabled");
        }
        write(options_.serializers.envelope(o), depth);
    }

    byte_buffer& out_;
    const codec_options& options_;
};

// ---- decoding ---------------------------------------------------------------------------------

// Reads iteratively. Values wait on a stack; a container takes its elements off the stack when
// it closes, into storage of exactly the right size (JSON does not announce sizes), the way
// RapidJSON builds its DOM.
class json_reader {
  public:
    json_reader(std::span<const std::byte> in, const codec_options& options,
                detail::decode_scratch& scratch)
        : begin_(reinterpret_cast<const char*>(in.data())),
          p_(begin_),
          end_(begin_ + in.size()),
          options_(options),
          stack_(scratch.json_stack),
          frames_(scratch.json_frames) {}

    value read() {
        try {
            parse();
        } catch (const located_error&) {
            throw;
        } catch (const serialization_error& e) {
            // Errors from envelopes learn the offset here.
            throw located_error("json decode: " + e.reason() + " at byte " + offset(),
                                place() + e.place());
        }
        return std::move(stack_.back());
    }

  private:
    struct located_error : serialization_error {
        using serialization_error::serialization_error;
    };

    std::string offset() const { return std::to_string(p_ - begin_); }

    std::string place() const {
        std::string out;
        for (std::size_t i = 0; i < frames_.size(); ++i) {
            std::size_t end = i + 1 < frames_.size() ? frames_[i + 1].start : stack_.size();
            std::size_t n = end - frames_[i].start;
            if (!frames_[i].is_map) {
                out += detail::index_place(n);
            } else if (n % 2 == 1) {
                out += detail::key_place(stack_[end - 1]);
            }
        }
        return out;
    }

    bool complete() const noexcept { return frames_.empty() && !stack_.empty(); }
    bool in_map() const noexcept { return !frames_.empty() && frames_.back().is_map; }

    void open(bool is_map) {
        if (frames_.size() >= options_.max_depth) {
            fail("nesting deeper than " + std::to_string(options_.max_depth) + " levels");
        }
        frames_.push_back({stack_.size(), is_map});
    }

    void close() {
        const detail::json_frame f = frames_.back();
        frames_.pop_back();
        auto first = stack_.begin() + static_cast<std::ptrdiff_t>(f.start);
        const std::size_t n = stack_.size() - f.start;
        value v;
        if (!f.is_map) {
            array a;
            a.reserve(n);
            std::move(first, stack_.end(), std::back_inserter(a));
            v = value(std::move(a));
        } else {
            map m;
            m.reserve(n / 2);
            for (auto it = first; it != stack_.end(); it += 2) {
                m.insert_or_assign(std::move(*it), std::move(*(it + 1)));
            }
            v = value(std::move(m));
        }
        stack_.erase(first, stack_.end());
        if (f.is_map && options_.decode_envelopes) {
            if (auto opened = options_.serializers.open(*v.get_if<map>())) v = std::move(*opened);
        }
        stack_.push_back(std::move(v));
    }

    [[noreturn]] void fail(std::string_view what) const {
        throw located_error("json decode: " + std::string(what) + " at byte " + offset(), place());
    }

    void skip_ws() noexcept {
        while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t'))
            ++p_;
    }

    bool literal(std::string_view word) noexcept {
        if (static_cast<std::size_t>(end_ - p_) >= word.size() &&
            std::memcmp(p_, word.data(), word.size()) == 0) {
            p_ += word.size();
            return true;
        }
        return false;
    }

    enum class state { value, first_element, first_key, key, after_value };

    void parse() {
        state s = state::value;
        skip_ws();
        for (;;) {
            switch (s) {
                case state::first_element:
                    skip_ws();
                    if (p_ < end_ && *p_ == ']') {
                        ++p_;
                        close();
                        s = state::after_value;
                        continue;
                    }
                    [[fallthrough]];
                case state::value:
                    skip_ws();
                    parse_value(s);
                    continue;
                case state::first_key:
                    skip_ws();
                    if (p_ < end_ && *p_ == '}') {
                        ++p_;
                        close();
                        s = state::after_value;
                        continue;
                    }
                    [[fallthrough]];
                case state::key:
                    skip_ws();
                    if (p_ >= end_ || *p_ != '"') fail("expected a string key in double quotes");
                    stack_.emplace_back(parse_string());
                    skip_ws();
                    if (p_ >= end_ || *p_ != ':') fail("expected ':' after a key");
                    ++p_;
                    s = state::value;
                    continue;
                case state::after_value:
                    if (complete()) {
                        skip_ws();
                        if (p_ != end_) fail("extra data after the value");
                        return;
                    }
                    skip_ws();
                    if (p_ < end_ && *p_ == ',') {
                        ++p_;
                        s = in_map() ? state::key : state::value;
                    } else if (p_ < end_ && *p_ == (in_map() ? '}' : ']')) {
                        ++p_;
                        close();
                    } else {
                        fail(in_map() ? "expected ',' or '}'" : "expected ',' or ']'");
                    }
                    continue;
            }
        }
    }

    void parse_value(state& s) {
        if (p_ >= end_) fail("expected a value");
        switch (*p_) {
            case '{':
                open(true);
                ++p_;
                s = state::first_key;
                return;
            case '[':
                open(false);
                ++p_;
                s = state::first_element;
                return;
            case '"':
                stack_.emplace_back(parse_string());
                break;
            case 't':
                if (!literal("true")) fail("expected a value");
                stack_.emplace_back(true);
                break;
            case 'f':
                if (!literal("false")) fail("expected a value");
                stack_.emplace_back(false);
                break;
            case 'n':
                if (!literal("null")) fail("expected a value");
                stack_.emplace_back();
                break;
            case 'N':
                if (!literal("NaN")) fail("expected a value");
                stack_.emplace_back(std::numeric_limits<double>::quiet_NaN());
                break;
            case 'I':
                if (!literal("Infinity")) fail("expected a value");
                stack_.emplace_back(std::numeric_limits<double>::infinity());
                break;
            default:
                if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) {
                    stack_.push_back(parse_number());
                    break;
                }
                fail("expected a value");
        }
        s = state::after_value;
    }

    static bool digit(char c) noexcept { return c >= '0' && c <= '9'; }

    value parse_number() {
        const char* start = p_;
        bool negative = false;
        if (*p_ == '-') {
            negative = true;
            ++p_;
            if (literal("Infinity")) return value(-std::numeric_limits<double>::infinity());
        }
        if (p_ >= end_ || !digit(*p_)) fail("invalid number");
        const char* int_begin = p_;
        if (*p_ == '0') {
            ++p_;
        } else {
            while (p_ < end_ && digit(*p_))
                ++p_;
        }
        const char* int_end = p_;
        bool is_float = false;
        if (p_ < end_ && *p_ == '.') {
            is_float = true;
            ++p_;
            if (p_ >= end_ || !digit(*p_)) fail("invalid number: expected a digit after '.'");
            while (p_ < end_ && digit(*p_))
                ++p_;
        }
        if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
            is_float = true;
            ++p_;
            if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
            if (p_ >= end_ || !digit(*p_)) fail("invalid number: expected a digit in the exponent");
            while (p_ < end_ && digit(*p_))
                ++p_;
        }
        if (!is_float) return parse_integer(start, int_begin, int_end, negative);
        return value(parse_double(start, int_begin, int_end));
    }

    static value parse_integer(const char* start, const char* digits, const char* end,
                               bool negative) {
        if (end - digits <= 18) {
            std::int64_t v = 0;
            for (const char* q = digits; q < end; ++q)
                v = v * 10 + (*q - '0');
            return value(negative ? -v : v);
        }
        std::int64_t i = 0;
        if (auto r = std::from_chars(start, end, i); r.ec == std::errc() && r.ptr == end) {
            return value(i);
        }
        std::uint64_t u = 0;
        if (!negative) {
            if (auto r = std::from_chars(digits, end, u); r.ec == std::errc() && r.ptr == end) {
                return value(u);
            }
        }
        return value(big_integer(std::string_view(start, static_cast<std::size_t>(end - start))));
    }

    double parse_double(const char* start, const char* int_begin, const char* int_end) const {
        double d = 0;
        auto r = std::from_chars(start, p_, d);
        if (r.ec == std::errc() && r.ptr == p_) return d;
        if (r.ec != std::errc::result_out_of_range) fail("invalid number");
        // Python's float() gives ±inf on overflow and ±0.0 on underflow: tell them apart by the
        // decimal magnitude of the first significant digit.
        const char* q = int_begin;
        long magnitude = 0;
        bool found = false;
        while (q < int_end && *q == '0')
            ++q;
        if (q < int_end) {
            magnitude = static_cast<long>(int_end - q) - 1;
            found = true;
        }
        const char* frac = int_end < p_ && *int_end == '.' ? int_end + 1 : int_end;
        const char* f = frac;
        if (!found) {
            while (f < p_ && *f == '0')
                ++f;
            magnitude = -static_cast<long>(f - frac) - 1;
        }
        const char* e = frac;
        while (e < p_ && *e != 'e' && *e != 'E')
            ++e;
        long exponent = 0;
        if (e < p_) {
            const char* x = e + 1;
            bool neg = *x == '-';
            if (*x == '+' || *x == '-') ++x;
            for (; x < p_; ++x) {
                if (exponent < 100000000) exponent = exponent * 10 + (*x - '0');
            }
            if (neg) exponent = -exponent;
        }
        bool negative = *start == '-';
        double result = magnitude + exponent > 0 ? std::numeric_limits<double>::infinity() : 0.0;
        return negative ? -result : result;
    }

    static unsigned hex_value(char c) noexcept {
        if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
        if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
        if (c >= 'A' && c <= 'F') return static_cast<unsigned>(c - 'A' + 10);
        return 16;
    }

    std::uint32_t parse_hex4() {
        if (end_ - p_ < 4) fail("truncated \\u escape");
        std::uint32_t u = 0;
        for (int i = 0; i < 4; ++i) {
            unsigned h = hex_value(p_[i]);
            if (h > 15) fail("invalid \\u escape");
            u = u << 4 | h;
        }
        p_ += 4;
        return u;
    }

    static void append_utf8(std::string& out, std::uint32_t cp) {
        if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        } else {
            out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        }
    }

    // At the opening quote. Validates UTF-8 and rejects control characters, as Python's strict
    // json.loads does.
    std::string parse_string() {
        ++p_;
        const char* run = p_;
        std::string out;
        for (;;) {
            if (p_ >= end_) fail("unterminated string");
            auto c = static_cast<unsigned char>(*p_);
            if (c == '"') {
                out.append(run, static_cast<std::size_t>(p_ - run));
                ++p_;
                return out;
            }
            if (c == '\\') {
                out.append(run, static_cast<std::size_t>(p_ - run));
                ++p_;
                if (p_ >= end_) fail("unterminated string");
                switch (*p_++) {
                    case '"':
                        out.push_back('"');
                        break;
                    case '\\':
                        out.push_back('\\');
                        break;
                    case '/':
                        out.push_back('/');
                        break;
                    case 'b':
                        out.push_back('\b');
                        break;
                    case 'f':
                        out.push_back('\f');
                        break;
                    case 'n':
                        out.push_back('\n');
                        break;
                    case 'r':
                        out.push_back('\r');
                        break;
                    case 't':
                        out.push_back('\t');
                        break;
                    case 'u': {
                        std::uint32_t cp = parse_hex4();
                        if (cp >= 0xd800 && cp <= 0xdbff) {
                            if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u') {
                                fail("unpaired surrogate in \\u escape");
                            }
                            p_ += 2;
                            std::uint32_t low = parse_hex4();
                            if (low < 0xdc00 || low > 0xdfff)
                                fail("unpaired surrogate in \\u escape");
                            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                            fail("unpaired surrogate in \\u escape");
                        }
                        append_utf8(out, cp);
                        break;
                    }
                    default:
                        --p_;
                        fail("invalid escape");
                }
                run = p_;
                continue;
            }
            if (c < 0x20) fail("control character in string");
            if (c < 0x80) {
                ++p_;
                continue;
            }
            std::uint32_t cp = 0;
            std::size_t len =
                detail::utf8_sequence(reinterpret_cast<const unsigned char*>(p_),
                                      reinterpret_cast<const unsigned char*>(end_), cp);
            if (len == 0) fail("invalid UTF-8");
            p_ += len;
        }
    }

    const char* begin_;
    const char* p_;
    const char* end_;
    const codec_options& options_;
    std::vector<value>& stack_;
    std::vector<detail::json_frame>& frames_;
};

}  // namespace

void json_codec::encode(const value& v, byte_buffer& out) {
    detail::atomic_append(out, [&] { json_writer(out, options_).write(v, 0); });
}

void json_codec::encode_array(std::span<const value* const> items, byte_buffer& out) {
    detail::atomic_append(out, [&] { json_writer(out, options_).write_items(items, 0); });
}

value json_codec::decode(std::span<const std::byte> payload) {
    detail::scratch_lease lease(scratch());
    return json_reader(payload, options_, lease.get()).read();
}

}  // namespace sim

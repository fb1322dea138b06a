#include <sim/codec/value.hpp>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>

#include <sim/core/error.hpp>

#include "codec/float_repr.hpp"

namespace sim {

std::string_view to_string(value_kind k) noexcept {
    switch (k) {
        case value_kind::nil:
            return "nil";
        case value_kind::boolean:
            return "bool";
        case value_kind::int64:
        case value_kind::uint64:
            return "int";
        case value_kind::big_integer:
            return "bigint";
        case value_kind::float64:
            return "float";
        case value_kind::string:
            return "string";
        case value_kind::bytes:
            return "bytes";
        case value_kind::array:
            return "array";
        case value_kind::map:
            return "map";
        case value_kind::object:
            return "object";
    }
    return "?";
}

// ---- map --------------------------------------------------------------------------------------

namespace {

// Up to this many entries a linear scan beats hashing.
constexpr std::size_t linear_limit = 8;

std::size_t mix(std::size_t h, std::size_t x) noexcept {
    return h ^ (x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

std::size_t hash_string(std::string_view s) noexcept {
    return mix(static_cast<std::size_t>(value_kind::string), std::hash<std::string_view>{}(s));
}

}  // namespace

struct map::index {
    std::vector<std::uint32_t> slots;  // 0: empty; else position in entries_ + 1
    std::vector<std::size_t> hashes;   // hash of each entry's key, by position
    std::size_t mask = 0;
};

map::map() noexcept = default;

map::map(std::initializer_list<entry> entries) {
    entries_.reserve(entries.size());
    for (const auto& e : entries)
        insert_or_assign(e.first, e.second);
}

map::map(const map& other) : entries_(other.entries_) {
    if (other.index_) index_ = std::make_unique<index>(*other.index_);
}

map::map(map&& other) noexcept = default;

map& map::operator=(const map& other) {
    if (this != &other) {
        entries_ = other.entries_;
        index_ = other.index_ ? std::make_unique<index>(*other.index_) : nullptr;
    }
    return *this;
}

map& map::operator=(map&& other) noexcept = default;
map::~map() = default;

void map::clear() noexcept {
    entries_.clear();
    index_.reset();
}

void map::rebuild_index() {
    if (entries_.size() <= linear_limit) {
        index_.reset();
        return;
    }
    if (!index_) index_ = std::make_unique<index>();
    std::size_t cap = 16;
    while (cap < entries_.size() * 2)
        cap *= 2;
    index_->slots.assign(cap, 0);
    index_->mask = cap - 1;
    index_->hashes.resize(entries_.size());
    for (std::size_t pos = 0; pos < entries_.size(); ++pos) {
        std::size_t h = hash_value(entries_[pos].first);
        index_->hashes[pos] = h;
        std::size_t i = h & index_->mask;
        while (index_->slots[i] != 0)
            i = (i + 1) & index_->mask;
        index_->slots[i] = static_cast<std::uint32_t>(pos + 1);
    }
}

void map::index_insert(std::size_t pos) {
    if (!index_) {
        if (entries_.size() > linear_limit) rebuild_index();
        return;
    }
    if (entries_.size() * 2 > index_->slots.size()) {
        rebuild_index();
        return;
    }
    std::size_t h = hash_value(entries_[pos].first);
    index_->hashes.push_back(h);
    std::size_t i = h & index_->mask;
    while (index_->slots[i] != 0)
        i = (i + 1) & index_->mask;
    index_->slots[i] = static_cast<std::uint32_t>(pos + 1);
}

std::ptrdiff_t map::lookup(const value& key) const noexcept {
    if (!index_) {
        for (std::size_t pos = 0; pos < entries_.size(); ++pos) {
            if (entries_[pos].first == key) return static_cast<std::ptrdiff_t>(pos);
        }
        return -1;
    }
    std::size_t h = hash_value(key);
    for (std::size_t i = h & index_->mask; index_->slots[i] != 0; i = (i + 1) & index_->mask) {
        std::size_t pos = index_->slots[i] - 1;
        if (index_->hashes[pos] == h && entries_[pos].first == key)
            return static_cast<std::ptrdiff_t>(pos);
    }
    return -1;
}

std::ptrdiff_t map::lookup(std::string_view key) const noexcept {
    if (!index_) {
        for (std::size_t pos = 0; pos < entries_.size(); ++pos) {
            const auto* s = entries_[pos].first.get_if<std::string>();
            if (s != nullptr && *s == key) return static_cast<std::ptrdiff_t>(pos);
        }
        return -1;
    }
    std::size_t h = hash_string(key);
    for (std::size_t i = h & index_->mask; index_->slots[i] != 0; i = (i + 1) & index_->mask) {
        std::size_t pos = index_->slots[i] - 1;
        if (index_->hashes[pos] != h) continue;
        const auto* s = entries_[pos].first.get_if<std::string>();
        if (s != nullptr && *s == key) return static_cast<std::ptrdiff_t>(pos);
    }
    return -1;
}

const value* map::find(const value& key) const noexcept {
    auto pos = lookup(key);
    return pos < 0 ? nullptr : &entries_[static_cast<std::size_t>(pos)].second;
}
value* map::find(const value& key) noexcept {
    return const_cast<value*>(std::as_const(*this).find(key));
}
const value* map::find_string(std::string_view key) const noexcept {
    auto pos = lookup(key);
    return pos < 0 ? nullptr : &entries_[static_cast<std::size_t>(pos)].second;
}

const value& map::at_string(std::string_view key) const {
    if (const value* v = find_string(key)) return *v;
    throw serialization_error("missing key \"" + std::string(key) + "\"");
}
const value& map::at(const value& key) const {
    if (const value* v = find(key)) return *v;
    throw serialization_error("missing key " + to_display_string(key));
}

value& map::subscript_string(std::string_view key) {
    if (const value* v = find_string(key)) return const_cast<value&>(*v);
    entries_.emplace_back(value(key), value());
    index_insert(entries_.size() - 1);
    return entries_.back().second;
}

value& map::operator[](const value& key) {
    if (value* v = find(key)) return *v;
    entries_.emplace_back(key, value());
    index_insert(entries_.size() - 1);
    return entries_.back().second;
}

value& map::insert_or_assign(value key, value mapped) {
    if (value* v = find(key)) {
        *v = std::move(mapped);
        return *v;
    }
    entries_.emplace_back(std::move(key), std::move(mapped));
    index_insert(entries_.size() - 1);
    return entries_.back().second;
}

bool map::insert(value key, value mapped) {
    if (find(key) != nullptr) return false;
    entries_.emplace_back(std::move(key), std::move(mapped));
    index_insert(entries_.size() - 1);
    return true;
}

bool map::erase(const value& key) {
    auto pos = lookup(key);
    if (pos < 0) return false;
    entries_.erase(entries_.begin() + pos);
    if (index_) rebuild_index();
    return true;
}

bool map::erase_string(std::string_view key) {
    auto pos = lookup(key);
    if (pos < 0) return false;
    entries_.erase(entries_.begin() + pos);
    if (index_) rebuild_index();
    return true;
}

// ---- value ------------------------------------------------------------------------------------

value::value(big_integer b) {
    if (auto i = b.to_int64()) {
        i_ = *i;
        kind_ = value_kind::int64;
    } else if (auto u = b.to_uint64()) {
        u_ = *u;
        kind_ = value_kind::uint64;
    } else {
        new (&big_) big_integer(std::move(b));
        kind_ = value_kind::big_integer;
    }
}

value::value(const value& other) : kind_(other.kind_) {
    switch (kind_) {
        case value_kind::big_integer:
            new (&big_) big_integer(other.big_);
            break;
        case value_kind::string:
            new (&s_) std::string(other.s_);
            break;
        case value_kind::bytes:
            new (&bytes_) bytes(other.bytes_);
            break;
        case value_kind::array:
            new (&array_) array(other.array_);
            break;
        case value_kind::map:
            new (&map_) map(other.map_);
            break;
        case value_kind::object:
            new (&object_) object(other.object_);
            break;
        default:
            u_ = other.u_;
    }
}

void value::move_from(value&& other) noexcept {
    switch (kind_) {
        case value_kind::big_integer:
            new (&big_) big_integer(std::move(other.big_));
            break;
        case value_kind::string:
            new (&s_) std::string(std::move(other.s_));
            break;
        case value_kind::bytes:
            new (&bytes_) bytes(std::move(other.bytes_));
            break;
        case value_kind::array:
            new (&array_) array(std::move(other.array_));
            break;
        case value_kind::map:
            new (&map_) map(std::move(other.map_));
            break;
        case value_kind::object:
            new (&object_) object(std::move(other.object_));
            break;
        default:
            u_ = other.u_;
    }
}

void value::destroy() noexcept {
    switch (kind_) {
        case value_kind::big_integer:
            big_.~big_integer();
            break;
        case value_kind::string:
            s_.~basic_string();
            break;
        case value_kind::bytes:
            bytes_.~vector();
            break;
        case value_kind::array:
            array_.~vector();
            break;
        case value_kind::map:
            map_.~map();
            break;
        case value_kind::object:
            object_.~object();
            break;
        default:
            break;
    }
    kind_ = value_kind::nil;
}

std::string value::type_name() const {
    if (const auto* o = get_if<object>()) return o->type_name();
    return std::string(to_string(kind()));
}

bool value::as_bool() const {
    if (const auto* b = get_if<bool>()) return *b;
    detail::throw_type_mismatch("bool", *this);
}

std::int64_t value::as_int64() const {
    if (const auto* i = get_if<std::int64_t>()) return *i;
    if (is_integer()) detail::throw_out_of_range("int64", *this);
    detail::throw_type_mismatch("int", *this);
}

std::uint64_t value::as_uint64() const {
    if (const auto* i = get_if<std::int64_t>()) {
        if (*i >= 0) return static_cast<std::uint64_t>(*i);
        detail::throw_out_of_range("uint64", *this);
    }
    if (const auto* u = get_if<std::uint64_t>()) return *u;
    if (is_integer()) detail::throw_out_of_range("uint64", *this);
    detail::throw_type_mismatch("int", *this);
}

double value::as_double() const {
    switch (kind()) {
        case value_kind::float64:
            return *get_if<double>();
        case value_kind::int64:
            return static_cast<double>(*get_if<std::int64_t>());
        case value_kind::uint64:
            return static_cast<double>(*get_if<std::uint64_t>());
        case value_kind::big_integer:
            return get_if<big_integer>()->to_double();
        default:
            detail::throw_type_mismatch("float", *this);
    }
}

const std::string& value::as_string() const {
    if (const auto* s = get_if<std::string>()) return *s;
    detail::throw_type_mismatch("string", *this);
}
std::string& value::as_string() {
    if (auto* s = get_if<std::string>()) return *s;
    detail::throw_type_mismatch("string", *this);
}
const bytes& value::as_bytes() const {
    if (const auto* b = get_if<bytes>()) return *b;
    detail::throw_type_mismatch("bytes", *this);
}
bytes& value::as_bytes() {
    if (auto* b = get_if<bytes>()) return *b;
    detail::throw_type_mismatch("bytes", *this);
}
const array& value::as_array() const {
    if (const auto* a = get_if<array>()) return *a;
    detail::throw_type_mismatch("array", *this);
}
array& value::as_array() {
    if (auto* a = get_if<array>()) return *a;
    detail::throw_type_mismatch("array", *this);
}
const map& value::as_map() const {
    if (const auto* m = get_if<map>()) return *m;
    detail::throw_type_mismatch("map", *this);
}
map& value::as_map() {
    if (auto* m = get_if<map>()) return *m;
    detail::throw_type_mismatch("map", *this);
}
const object& value::as_object() const {
    if (const auto* o = get_if<object>()) return *o;
    detail::throw_type_mismatch("object", *this);
}

big_integer value::as_big_integer() const {
    switch (kind()) {
        case value_kind::int64:
            return big_integer(*get_if<std::int64_t>());
        case value_kind::uint64:
            return big_integer(*get_if<std::uint64_t>());
        case value_kind::big_integer:
            return *get_if<big_integer>();
        default:
            detail::throw_type_mismatch("int", *this);
    }
}

const value& value::at_index(std::size_t i) const {
    const array& a = as_array();
    if (i >= a.size()) {
        throw serialization_error("index " + std::to_string(i) + " out of range for an array of " +
                                  std::to_string(a.size()));
    }
    return a[i];
}

const value& value::operator[](std::string_view key) const {
    return as_map().at(key);
}

std::size_t value::size() const noexcept {
    switch (kind()) {
        case value_kind::string:
            return get_if<std::string>()->size();
        case value_kind::bytes:
            return get_if<bytes>()->size();
        case value_kind::array:
            return get_if<array>()->size();
        case value_kind::map:
            return get_if<map>()->size();
        default:
            return 0;
    }
}

bool operator==(const value& a, const value& b) noexcept {
    if (a.kind_ != b.kind_) return false;
    switch (a.kind()) {
        case value_kind::nil:
            return true;
        case value_kind::boolean:
            return *a.get_if<bool>() == *b.get_if<bool>();
        case value_kind::int64:
            return *a.get_if<std::int64_t>() == *b.get_if<std::int64_t>();
        case value_kind::uint64:
            return *a.get_if<std::uint64_t>() == *b.get_if<std::uint64_t>();
        case value_kind::big_integer:
            return *a.get_if<big_integer>() == *b.get_if<big_integer>();
        case value_kind::float64: {
            double x = *a.get_if<double>(), y = *b.get_if<double>();
            if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
            return std::bit_cast<std::uint64_t>(x) == std::bit_cast<std::uint64_t>(y);
        }
        case value_kind::string:
            return *a.get_if<std::string>() == *b.get_if<std::string>();
        case value_kind::bytes:
            return *a.get_if<bytes>() == *b.get_if<bytes>();
        case value_kind::array:
            return *a.get_if<array>() == *b.get_if<array>();
        case value_kind::map:
            return *a.get_if<map>() == *b.get_if<map>();
        case value_kind::object:
            return *a.get_if<object>() == *b.get_if<object>();
    }
    return false;
}

std::size_t hash_value(const value& v) noexcept {
    auto k = static_cast<std::size_t>(v.kind());
    switch (v.kind()) {
        case value_kind::nil:
            return k;
        case value_kind::boolean:
            return mix(k, *v.get_if<bool>() ? 1 : 0);
        case value_kind::int64:
            return mix(k, std::hash<std::int64_t>{}(*v.get_if<std::int64_t>()));
        case value_kind::uint64:
            return mix(k, std::hash<std::uint64_t>{}(*v.get_if<std::uint64_t>()));
        case value_kind::big_integer:
            return mix(k, std::hash<std::string>{}(v.get_if<big_integer>()->str()));
        case value_kind::float64: {
            double d = *v.get_if<double>();
            std::uint64_t bits =
                std::isnan(d) ? 0x7ff8000000000000ULL : std::bit_cast<std::uint64_t>(d);
            return mix(k, std::hash<std::uint64_t>{}(bits));
        }
        case value_kind::string:
            return hash_string(*v.get_if<std::string>());
        case value_kind::bytes: {
            const bytes& b = *v.get_if<bytes>();
            std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
            return mix(k, std::hash<std::string_view>{}(s));
        }
        case value_kind::array: {
            std::size_t h = k;
            for (const auto& x : *v.get_if<array>())
                h = mix(h, hash_value(x));
            return h;
        }
        case value_kind::map: {
            std::size_t h = k;
            for (const auto& [key, x] : *v.get_if<map>())
                h = mix(mix(h, hash_value(key)), hash_value(x));
            return h;
        }
        case value_kind::object:
            // Equal objects share a type; their content has no general hash.
            return mix(k, v.get_if<object>()->type().hash_code());
    }
    return k;
}

// ---- display ----------------------------------------------------------------------------------

namespace {

void display_string(std::string& out, std::string_view s) {
    out.push_back('"');
    for (unsigned char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
    }
    out.push_back('"');
}

void display_float(std::string& out, double d) {
    if (std::isnan(d)) {
        out += "nan";
    } else if (std::isinf(d)) {
        out += d < 0 ? "-inf" : "inf";
    } else {
        char buf[detail::float_repr_max];
        out.append(buf, detail::float_repr(d, buf));
    }
}

// As Python shows bytes: printable ASCII as is, the rest as \xNN.
void display_bytes(std::string& out, const bytes& data) {
    out += "b'";
    for (std::byte b : data) {
        auto c = static_cast<unsigned char>(b);
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
            out.push_back(static_cast<char>(c));
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    out += "'";
}

void display(std::string& out, const value& v, int depth) {
    if (depth > 64) {
        out += "...";
        return;
    }
    switch (v.kind()) {
        case value_kind::nil:
            out += "null";
            break;
        case value_kind::boolean:
            out += *v.get_if<bool>() ? "true" : "false";
            break;
        case value_kind::int64:
            out += std::to_string(*v.get_if<std::int64_t>());
            break;
        case value_kind::uint64:
            out += std::to_string(*v.get_if<std::uint64_t>());
            break;
        case value_kind::big_integer:
            out += v.get_if<big_integer>()->str();
            break;
        case value_kind::float64:
            display_float(out, *v.get_if<double>());
            break;
        case value_kind::string:
            display_string(out, *v.get_if<std::string>());
            break;
        case value_kind::bytes:
            display_bytes(out, *v.get_if<bytes>());
            break;
        case value_kind::array: {
            out.push_back('[');
            bool first = true;
            for (const auto& x : *v.get_if<array>()) {
                if (!first) out += ", ";
                first = false;
                display(out, x, depth + 1);
            }
            out.push_back(']');
            break;
        }
        case value_kind::map: {
            out.push_back('{');
            bool first = true;
            for (const auto& [k, x] : *v.get_if<map>()) {
                if (!first) out += ", ";
                first = false;
                display(out, k, depth + 1);
                out += ": ";
                display(out, x, depth + 1);
            }
            out.push_back('}');
            break;
        }
        case value_kind::object: {
            const object& o = *v.get_if<object>();
            out += o.type_name();
            value fields = o.descriptor().fields(o.address());
            if (fields.is_map()) {
                display(out, fields, depth + 1);
            } else {
                out += "{...}";
            }
            break;
        }
    }
}

std::string truncated_display(const value& v) {
    std::string s = to_display_string(v);
    constexpr std::size_t limit = 60;
    if (s.size() > limit) {
        s.resize(limit);
        s += "...";
    }
    return s;
}

}  // namespace

std::string to_display_string(const value& v) {
    std::string out;
    display(out, v, 0);
    return out;
}

// ---- conversion helpers -----------------------------------------------------------------------

namespace detail {

void throw_type_mismatch(std::string_view expected, const value& got) {
    std::string msg = "expected ";
    msg += expected;
    msg += ", got ";
    msg += got.type_name();
    if (!got.is_nil() && !got.is_object()) {
        msg += ' ';
        msg += truncated_display(got);
    }
    throw serialization_error(std::move(msg));
}

void throw_out_of_range(std::string_view type, const value& got) {
    throw serialization_error(truncated_display(got) + " is out of range for " + std::string(type));
}

void throw_size_mismatch(std::size_t expected, std::size_t got) {
    throw serialization_error("expected an array of " + std::to_string(expected) +
                              " elements, got " + std::to_string(got));
}

// Built by appending: GCC 12 warns falsely (-Wrestrict) on `"[" + std::string`.
std::string index_place(std::size_t i) {
    std::string s(1, '[');
    s += std::to_string(i);
    s += ']';
    return s;
}

std::string key_place(const value& key) {
    std::string s(1, '[');
    s += to_display_string(key);
    s += ']';
    return s;
}

}  // namespace detail

}  // namespace sim

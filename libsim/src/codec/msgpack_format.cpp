#include "codec/msgpack_format.hpp"

#include <bit>
#include <cstring>
#include <limits>

#include <sim/codec/msgpack_codec.hpp>

#include "codec/atomic_append.hpp"
#include "codec/decode_scratch.hpp"
#include "codec/utf8.hpp"

namespace sim {

namespace detail {

namespace {

// ---- encoding ---------------------------------------------------------------------------------

class msgpack_writer {
  public:
    msgpack_writer(byte_buffer& out, const codec_options& options) : out_(out), options_(options) {}

    // The kinds that cannot fail, written without the recursion and the place bookkeeping that
    // containers need: most elements of large arrays are numbers.
    bool write_scalar(const value& v) {
        switch (v.kind()) {
            case value_kind::nil:
                byte(0xc0);
                return true;
            case value_kind::boolean:
                byte(*v.get_if<bool>() ? 0xc3 : 0xc2);
                return true;
            case value_kind::int64: {
                std::int64_t i = *v.get_if<std::int64_t>();
                if (i >= 0) {
                    write_unsigned(static_cast<std::uint64_t>(i));
                } else {
                    write_negative(i);
                }
                return true;
            }
            case value_kind::uint64:
                write_unsigned(*v.get_if<std::uint64_t>());
                return true;
            case value_kind::float64: {
                std::byte* p = out_.extend(9);
                p[0] = std::byte{0xcb};
                store_be(p + 1, std::bit_cast<std::uint64_t>(*v.get_if<double>()));
                return true;
            }
            default:
                return false;
        }
    }

    void write(const value& v, std::size_t depth) {
        if (write_scalar(v)) return;
        switch (v.kind()) {
            case value_kind::nil:
            case value_kind::boolean:
            case value_kind::int64:
            case value_kind::uint64:
            case value_kind::float64:
                return;  // written by write_scalar
            case value_kind::big_integer:
                throw serialization_error("msgpack cannot encode the integer " +
                                          v.get_if<big_integer>()->str() +
                                          " (outside [-2^63, 2^64-1])");
            case value_kind::string:
                write_string(*v.get_if<std::string>());
                return;
            case value_kind::bytes:
                write_bytes(*v.get_if<bytes>());
                return;
            case value_kind::array: {
                const array& a = *v.get_if<array>();
                check_depth(depth);
                write_header(a.size(), 0x90, 0xdc, "array");
                for (std::size_t i = 0; i < a.size(); ++i) {
                    if (!write_scalar(a[i])) detail::at_place(i, [&] { write(a[i], depth + 1); });
                }
                return;
            }
            case value_kind::map: {
                const map& m = *v.get_if<map>();
                check_depth(depth);
                write_header(m.size(), 0x80, 0xde, "map");
                for (const auto& entry : m) {
                    const auto& k = entry.first;
                    const auto& x = entry.second;
                    detail::at_key(k, [&] {
                        write(k, depth + 1);
                        write(x, depth + 1);
                    });
                }
                return;
            }
            case value_kind::object: {
                const object& o = *v.get_if<object>();
                if (!options_.decode_envelopes) {
                    throw serialization_error("cannot encode object of type \"" + o.type_name() +
                                              "\" with envelopes disabled");
                }
                write(options_.serializers.envelope(o), depth);
                return;
            }
        }
    }

    void write_items(std::span<const value* const> items) {
        check_depth(0);
        write_header(items.size(), 0x90, 0xdc, "array");
        for (std::size_t i = 0; i < items.size(); ++i) {
            detail::at_place(i, [&] { write(*items[i], 1); });
        }
    }

  private:
    void byte(unsigned b) { out_.push_back(static_cast<std::byte>(b)); }

    template <class T>
    static void store_be(std::byte* p, T v) noexcept {
        if constexpr (std::endian::native == std::endian::little) {
            if constexpr (sizeof(T) == 2) v = static_cast<T>(__builtin_bswap16(v));
            if constexpr (sizeof(T) == 4) v = __builtin_bswap32(v);
            if constexpr (sizeof(T) == 8) v = __builtin_bswap64(v);
        }
        std::memcpy(p, &v, sizeof v);
    }

    template <class T>
    void tagged(unsigned tag, T v) {
        std::byte* p = out_.extend(1 + sizeof(T));
        p[0] = static_cast<std::byte>(tag);
        store_be(p + 1, v);
    }

    // Smallest form, as msgpack-python: positive fixint, then uint 8/16/32/64.
    void write_unsigned(std::uint64_t u) {
        if (u < 0x80) {
            byte(static_cast<unsigned>(u));
        } else if (u <= 0xff) {
            std::byte* p = out_.extend(2);
            p[0] = std::byte{0xcc};
            p[1] = static_cast<std::byte>(u);
        } else if (u <= 0xffff) {
            tagged(0xcd, static_cast<std::uint16_t>(u));
        } else if (u <= 0xffffffff) {
            tagged(0xce, static_cast<std::uint32_t>(u));
        } else {
            tagged(0xcf, u);
        }
    }

    // Negative fixint down to -32, then int 8/16/32/64.
    void write_negative(std::int64_t i) {
        if (i >= -32) {
            byte(static_cast<unsigned>(static_cast<std::uint8_t>(i)));
        } else if (i >= std::numeric_limits<std::int8_t>::min()) {
            std::byte* p = out_.extend(2);
            p[0] = std::byte{0xd0};
            p[1] = static_cast<std::byte>(static_cast<std::uint8_t>(i));
        } else if (i >= std::numeric_limits<std::int16_t>::min()) {
            tagged(0xd1, static_cast<std::uint16_t>(i));
        } else if (i >= std::numeric_limits<std::int32_t>::min()) {
            tagged(0xd2, static_cast<std::uint32_t>(i));
        } else {
            tagged(0xd3, static_cast<std::uint64_t>(i));
        }
    }

    void check_length(std::size_t n, std::string_view what) const {
        if (n > std::numeric_limits<std::uint32_t>::max()) {
            throw serialization_error("msgpack cannot encode a " + std::string(what) + " of " +
                                      std::to_string(n) + " elements (limit 2^32-1)");
        }
    }

    void write_header(std::size_t n, unsigned fix, unsigned tag16, std::string_view what) {
        check_length(n, what);
        if (n < 16) {
            byte(fix | static_cast<unsigned>(n));
        } else if (n <= 0xffff) {
            tagged(tag16, static_cast<std::uint16_t>(n));
        } else {
            tagged(tag16 + 1, static_cast<std::uint32_t>(n));
        }
    }

    void write_string(const std::string& s) {
        if (std::size_t bad = utf8_invalid_at(s.data(), s.size()); bad != s.size()) {
            throw serialization_error(
                "msgpack cannot encode a string that is not valid UTF-8 (byte " +
                std::to_string(bad) + " of the string)");
        }
        std::size_t n = s.size();
        check_length(n, "string");
        if (n < 32) {
            byte(0xa0 | static_cast<unsigned>(n));
        } else if (n <= 0xff) {
            std::byte* p = out_.extend(2);
            p[0] = std::byte{0xd9};
            p[1] = static_cast<std::byte>(n);
        } else if (n <= 0xffff) {
            tagged(0xda, static_cast<std::uint16_t>(n));
        } else {
            tagged(0xdb, static_cast<std::uint32_t>(n));
        }
        out_.append(s.data(), n);
    }

    void write_bytes(const bytes& b) {
        std::size_t n = b.size();
        check_length(n, "bytes value");
        if (n <= 0xff) {
            std::byte* p = out_.extend(2);
            p[0] = std::byte{0xc4};
            p[1] = static_cast<std::byte>(n);
        } else if (n <= 0xffff) {
            tagged(0xc5, static_cast<std::uint16_t>(n));
        } else {
            tagged(0xc6, static_cast<std::uint32_t>(n));
        }
        out_.append(b.data(), n);
    }

    void check_depth(std::size_t depth) const {
        if (depth >= options_.max_depth) {
            throw serialization_error("msgpack cannot encode nesting deeper than " +
                                      std::to_string(options_.max_depth) + " levels");
        }
    }

    byte_buffer& out_;
    const codec_options& options_;
};

// ---- decoding ---------------------------------------------------------------------------------

// Reads iteratively: containers are built in place, one frame per open container, so nesting
// never touches the machine stack and every element lands where it belongs without a move.
class msgpack_reader {
  public:
    msgpack_reader(std::span<const std::byte> in, const codec_options& options,
                   std::string_view name, decode_scratch& scratch)
        : begin_(reinterpret_cast<const std::uint8_t*>(in.data())),
          p_(begin_),
          end_(begin_ + in.size()),
          name_(name),
          options_(options),
          frames_(scratch.msgpack_frames) {}

    value read() {
        value root;
        try {
            parse(root);
        } catch (const located_error&) {
            frames_.clear();  // drop what half-built frames hold
            throw;
        } catch (const serialization_error& e) {
            // Errors from envelopes learn the offset here.
            located_error located(std::string(name_) + " decode: " + e.reason() + " at byte " +
                                      std::to_string(token_ - begin_),
                                  place() + e.place());
            frames_.clear();
            throw located;
        } catch (...) {
            frames_.clear();
            throw;
        }
        if (p_ != end_) {
            token_ = p_;
            fail(std::to_string(end_ - p_) + " extra bytes after the value");
        }
        return root;
    }

  private:
    struct located_error : serialization_error {
        using serialization_error::serialization_error;
    };

    [[noreturn, gnu::noinline]] void fail(std::string_view what) const {
        throw located_error(std::string(name_) + " decode: " + std::string(what) + " at byte " +
                                std::to_string(token_ - begin_),
                            place());
    }

    [[noreturn, gnu::noinline]] void truncated(std::size_t n) const {
        fail("truncated input: " + std::to_string(n) + " more bytes needed, " +
             std::to_string(left()) + " left");
    }

    std::string place() const {
        std::string out;
        for (std::size_t i = 0; i < depth_; ++i) {
            const msgpack_frame& f = frames_[i];
            bool innermost = i + 1 == depth_;
            if (f.arr != nullptr) {
                std::size_t n = f.arr->size();
                if (!innermost || slot_open_) --n;
                out += index_place(n);
            } else if (f.have_key) {
                out += key_place(f.key);
            }
        }
        return out;
    }

    std::size_t left() const noexcept { return static_cast<std::size_t>(end_ - p_); }

    void need(std::size_t n) const {
        if (left() < n) [[unlikely]]
            truncated(n);
    }

    template <class T>
    T load() {
        need(sizeof(T));
        T v;
        std::memcpy(&v, p_, sizeof v);
        p_ += sizeof v;
        if constexpr (std::endian::native == std::endian::little) {
            if constexpr (sizeof(T) == 2) v = static_cast<T>(__builtin_bswap16(v));
            if constexpr (sizeof(T) == 4) v = __builtin_bswap32(v);
            if constexpr (sizeof(T) == 8) v = __builtin_bswap64(v);
        }
        return v;
    }

    // Element counts come from the input: reserve no more than the remaining bytes could hold.
    // An empty container needs no frame, but it is a level all the same (codec_options::
    // max_depth): the depth is checked before the shortcut, as the writers check every container.
    bool open_array(value& root, std::uint32_t n) {
        check_depth();
        value& slot = put(root, array{});
        if (n == 0) return true;
        push_frame(slot, n, false).arr->reserve(n < left() ? n : left());
        return false;
    }

    bool open_map(value& root, std::uint32_t n) {
        check_depth();
        value& slot = put(root, map{});
        if (n == 0) return true;
        push_frame(slot, n, true).m->reserve(n < left() / 2 ? n : left() / 2);
        return false;
    }

    // The container about to open is level depth_ + 1.
    void check_depth() const {
        if (depth_ >= options_.max_depth) [[unlikely]] {
            fail("nesting deeper than " + std::to_string(options_.max_depth) + " levels");
        }
    }

    // Opens a frame for the container in `slot` (open_array and open_map checked the depth).
    msgpack_frame& push_frame(value& slot, std::uint32_t n, bool is_map) {
        std::uint8_t in_parent = 0;
        if (top_ != nullptr && top_->m != nullptr) in_parent = top_->have_key ? 2 : 1;
        value* where = &slot;
        if (depth_ == frames_.size()) {
            grow_frames();  // moves every frame: `slot` may have moved with its parent
            if (in_parent != 0) {
                where = in_parent == 1 ? &frames_[depth_ - 1].key : &frames_[depth_ - 1].pending;
            }
        }
        // Frames are reused from message to message: only the bookkeeping is reset.
        msgpack_frame& f = frames_[depth_++];
        f.slot = where;
        f.in_parent = in_parent;
        f.remaining = n;
        f.have_key = false;
        f.arr = is_map ? nullptr : where->get_if<array>();
        f.m = is_map ? where->get_if<map>() : nullptr;
        top_ = &f;
        return f;
    }

    void grow_frames() {
        frames_.reserve(frames_.size() < 8 ? 8 : frames_.size() * 2);
        frames_.resize(frames_.capacity());
        for (std::size_t i = 1; i < depth_; ++i) {
            msgpack_frame& f = frames_[i];
            if (f.in_parent == 0) continue;
            f.slot = f.in_parent == 1 ? &frames_[i - 1].key : &frames_[i - 1].pending;
            f.arr = f.slot->get_if<array>();
            f.m = f.slot->get_if<map>();
        }
        top_ = depth_ == 0 ? nullptr : &frames_[depth_ - 1];
    }

    // Stores a value where the next one goes (root, array element, map key or map value),
    // constructing it in place, and returns where it went.
    template <class T>
    value& put(value& root, T&& x) {
        slot_open_ = true;
        if (top_ == nullptr) return root = value(std::forward<T>(x));
        if (top_->arr != nullptr) return top_->arr->emplace_back(std::forward<T>(x));
        return (top_->have_key ? top_->pending : top_->key) = value(std::forward<T>(x));
    }

    void put_unsigned(value& root, std::uint64_t u) {
        if (u <= static_cast<std::uint64_t>(INT64_MAX)) {
            put(root, static_cast<std::int64_t>(u));
        } else {
            put(root, u);
        }
    }

    // Records that the innermost value is complete, closing every container that this completes.
    // True when the whole document is complete.
    bool complete() {
        for (;;) {
            if (top_ == nullptr) return true;
            msgpack_frame& f = *top_;
            if (f.m != nullptr) {
                if (!f.have_key) {
                    f.have_key = true;
                    return false;
                }
                f.m->insert_or_assign(std::move(f.key), std::move(f.pending));
                f.have_key = false;
            }
            if (--f.remaining != 0) return false;
            value& closed = *f.slot;
            bool is_map = f.m != nullptr;
            --depth_;
            top_ = depth_ == 0 ? nullptr : &frames_[depth_ - 1];
            if (is_map && options_.decode_envelopes) {
                if (auto opened = options_.serializers.open(*closed.get_if<map>())) {
                    closed = std::move(*opened);
                }
            }
        }
    }

    void parse(value& root) {
        for (;;) {
            token_ = p_;
            slot_open_ = false;
            need(1);
            const std::uint8_t c = *p_++;
            if (!parse_one(root, c)) continue;  // a container opened: its elements follow
            if (complete()) return;
        }
    }

    std::string take_string(std::size_t n) {
        need(n);
        const auto* s = reinterpret_cast<const char*>(p_);
        if (std::size_t bad = utf8_invalid_at(s, n); bad != n) {
            token_ = p_ + bad;
            fail("invalid UTF-8 in a string");
        }
        p_ += n;
        return std::string(s, n);
    }

    bytes take_bytes(std::size_t n) {
        need(n);
        const auto* b = reinterpret_cast<const std::byte*>(p_);
        p_ += n;
        return bytes(b, b + n);
    }

    // Decodes one value whose first byte is `c`. False when it opened a non-empty container.
    // long function: one case per marker byte of the msgpack spec's format table, in its order, so
    // that it can be read against the spec; split, the table would be spread over helpers.
    bool parse_one(value& root, std::uint8_t c) {
        if (c <= 0x7f) {
            put(root, static_cast<std::int64_t>(c));
            return true;
        }
        if (c >= 0xe0) {
            put(root, static_cast<std::int64_t>(static_cast<std::int8_t>(c)));
            return true;
        }
        if (c <= 0x8f) return open_map(root, c & 0x0fu);
        if (c <= 0x9f) return open_array(root, c & 0x0fu);
        if (c <= 0xbf) {
            put(root, take_string(c & 0x1fu));
            return true;
        }
        switch (c) {
            case 0xc0:
                put(root, nullptr);
                return true;
            case 0xc1:
                fail("reserved byte 0xc1");
            case 0xc2:
                put(root, false);
                return true;
            case 0xc3:
                put(root, true);
                return true;
            case 0xc4:
                put(root, take_bytes(load<std::uint8_t>()));
                return true;
            case 0xc5:
                put(root, take_bytes(load<std::uint16_t>()));
                return true;
            case 0xc6:
                put(root, take_bytes(load<std::uint32_t>()));
                return true;
            case 0xc7:
            case 0xc8:
            case 0xc9:
            case 0xd4:
            case 0xd5:
            case 0xd6:
            case 0xd7:
            case 0xd8:
                fail("msgpack ext types are not supported");
            case 0xca:
                put(root, static_cast<double>(std::bit_cast<float>(load<std::uint32_t>())));
                return true;
            case 0xcb:
                put(root, std::bit_cast<double>(load<std::uint64_t>()));
                return true;
            case 0xcc:
                put(root, static_cast<std::int64_t>(load<std::uint8_t>()));
                return true;
            case 0xcd:
                put(root, static_cast<std::int64_t>(load<std::uint16_t>()));
                return true;
            case 0xce:
                put(root, static_cast<std::int64_t>(load<std::uint32_t>()));
                return true;
            case 0xcf:
                put_unsigned(root, load<std::uint64_t>());
                return true;
            case 0xd0:
                put(root,
                    static_cast<std::int64_t>(static_cast<std::int8_t>(load<std::uint8_t>())));
                return true;
            case 0xd1:
                put(root,
                    static_cast<std::int64_t>(static_cast<std::int16_t>(load<std::uint16_t>())));
                return true;
            case 0xd2:
                put(root,
                    static_cast<std::int64_t>(static_cast<std::int32_t>(load<std::uint32_t>())));
                return true;
            case 0xd3:
                put(root, static_cast<std::int64_t>(load<std::uint64_t>()));
                return true;
            case 0xd9:
                put(root, take_string(load<std::uint8_t>()));
                return true;
            case 0xda:
                put(root, take_string(load<std::uint16_t>()));
                return true;
            case 0xdb:
                put(root, take_string(load<std::uint32_t>()));
                return true;
            case 0xdc:
                return open_array(root, load<std::uint16_t>());
            case 0xdd:
                return open_array(root, load<std::uint32_t>());
            case 0xde:
                return open_map(root, load<std::uint16_t>());
            case 0xdf:
                return open_map(root, load<std::uint32_t>());
            default:
                fail("invalid byte");
        }
    }

    const std::uint8_t* begin_;
    const std::uint8_t* p_;
    const std::uint8_t* end_;
    const std::uint8_t* token_ = nullptr;
    std::string_view name_;
    const codec_options& options_;
    std::vector<msgpack_frame>& frames_;  // [0, depth_) are open; the rest wait for reuse
    std::size_t depth_ = 0;
    msgpack_frame* top_ = nullptr;  // frames_[depth_ - 1], cached: it is read for every value
    bool slot_open_ = false;
};

}  // namespace

void msgpack_write(const value& v, byte_buffer& out, const codec_options& options) {
    atomic_append(out, [&] { msgpack_writer(out, options).write(v, 0); });
}

void msgpack_write_array(std::span<const value* const> items, byte_buffer& out,
                         const codec_options& options) {
    atomic_append(out, [&] { msgpack_writer(out, options).write_items(items); });
}

value msgpack_read(std::span<const std::byte> in, const codec_options& options,
                   std::string_view codec_name, decode_scratch& scratch) {
    scratch_lease lease(scratch);
    return msgpack_reader(in, options, codec_name, lease.get()).read();
}

}  // namespace detail

void msgpack_codec::encode(const value& v, byte_buffer& out) {
    detail::msgpack_write(v, out, options_);
}

void msgpack_codec::encode_array(std::span<const value* const> items, byte_buffer& out) {
    detail::msgpack_write_array(items, out, options_);
}

value msgpack_codec::decode(std::span<const std::byte> payload) {
    return detail::msgpack_read(payload, options_, name(), scratch());
}

}  // namespace sim

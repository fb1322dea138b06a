#pragma once
// Assembles a value from a decoder's stream of scalars and container boundaries without
// recursion, so that input nesting never touches the machine stack (fibers have small stacks).

#include <cstdint>
#include <string>
#include <vector>

#include <sim/codec/codec.hpp>
#include <sim/core/error.hpp>

namespace sim::detail {

class value_builder {
public:
    explicit value_builder(const codec_options& options) : options_(options) {}

    /// Opens a container. `count` is the number of elements still to come (msgpack) or
    /// `uncounted` (JSON, closed by end()); `reserve` a safe capacity hint.
    static constexpr std::uint64_t uncounted = ~std::uint64_t{0};
    void begin_array(std::uint64_t count, std::size_t reserve) {
        check_depth();
        frames_.push_back({value(array{}), count, false, value()});
        if (reserve != 0) frames_.back().container.as_array().reserve(reserve);
    }
    void begin_map(std::uint64_t count, std::size_t reserve) {
        check_depth();
        frames_.push_back({value(map{}), count == uncounted ? uncounted : count * 2, true, value()});
        if (reserve != 0) frames_.back().container.as_map().reserve(reserve);
    }

    /// Adds a complete value to the innermost container (element, map key or map value), closing
    /// counted containers that become full.
    void add(value&& v) {
        for (;;) {
            if (frames_.empty()) {
                result_ = std::move(v);
                complete_ = true;
                return;
            }
            frame& f = frames_.back();
            if (!f.is_map) {
                f.container.get_if<array>()->push_back(std::move(v));
            } else if (!f.have_key) {
                f.key = std::move(v);
                f.have_key = true;
            } else {
                f.container.get_if<map>()->insert_or_assign(std::move(f.key), std::move(v));
                f.have_key = false;
            }
            if (f.remaining == uncounted || --f.remaining != 0) return;
            v = close_top();
        }
    }

    /// Closes an empty counted container or an uncounted one (JSON's ']' and '}').
    void end() { add(close_top()); }

    /// Whether the innermost open container is a map (false when none is open).
    bool in_map() const noexcept { return !frames_.empty() && frames_.back().is_map; }
    bool expecting_key() const noexcept { return in_map() && !frames_.back().have_key; }
    std::size_t depth() const noexcept { return frames_.size(); }
    bool complete() const noexcept { return complete_; }
    value take() { return std::move(result_); }

    /// Where the decoder is, as a path: `[2]["k"]`.
    std::string place() const;

private:
    struct frame {
        value container;
        std::uint64_t remaining;
        bool is_map;
        value key;
        bool have_key = false;
    };

    void check_depth() const {
        if (frames_.size() >= options_.max_depth) {
            throw serialization_error("nesting deeper than " + std::to_string(options_.max_depth) +
                                      " levels");
        }
    }

    value close_top() {
        value v = std::move(frames_.back().container);
        frames_.pop_back();
        if (options_.decode_envelopes) {
            if (const auto* m = v.get_if<map>()) {
                if (auto opened = options_.serializers.open(*m)) return std::move(*opened);
            }
        }
        return v;
    }

    const codec_options& options_;
    std::vector<frame> frames_;
    value result_;
    bool complete_ = false;
};

}  // namespace sim::detail

namespace sim::detail {

inline std::string value_builder::place() const {
    std::string out;
    for (const frame& f : frames_) {
        if (!f.is_map) {
            out += index_place(f.container.get_if<array>()->size());
        } else if (f.have_key) {
            out += key_place(f.key);
        }
    }
    return out;
}

}  // namespace sim::detail

#pragma once
/// The "logical" JSON notation of the golden vectors and `sim-frame`: any value as plain JSON.
///
/// bytes -> `{"$bytes": "<hex>"}`; NaN and ±inf -> `{"$float": "nan" | "inf" | "-inf"}`;
/// integers outside int64/uint64 -> `{"$bigint": "<decimal>"}`; maps with a non-string key ->
/// `{"$map": [[key, value], ...]}`; floats keep a point or exponent, integers have none.

#include <string>
#include <string_view>

#include <sim/codec/value.hpp>

namespace sim {

/// How `to_logical` writes what plain JSON can hold too.
struct logical_options {
    /// Integers beyond 64 bits as JSON numbers (`18446744073709551616`), as Python's json module
    /// writes them, instead of `{"$bigint": ...}`: for results read by people and by JSON parsers
    /// with big integers (sim-call). The marker shows a wire type, which sim-frame is for.
    bool big_integers_as_numbers = false;
};

/// The logical form of `v` (objects are an error: wire tools see envelopes as plain maps).
value to_logical(const value& v, const logical_options& options = {});
/// The value a logical form stands for. Throws `sim::serialization_error` for a malformed marker.
value from_logical(const value& logical);

/// `to_logical` written as JSON (Python's json.dumps conventions). Any value within
/// `codec_options::max_depth` levels can be written, although the markers nest deeper than the
/// value (a `$map` is three levels of JSON for one of the value): the JSON may nest up to
/// 3 x max_depth + 1 levels.
std::string to_logical_json(const value& v, const logical_options& options = {});
/// Parses JSON (up to 3 x max_depth + 1 levels deep, as `to_logical_json` writes) and applies
/// `from_logical`.
value from_logical_json(std::string_view text);

}  // namespace sim

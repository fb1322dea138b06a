#include <sim/codec/number.hpp>

#include <cmath>
#include <cstdint>

namespace sim {

value number_value(double x) {
    constexpr double exact_limit = 9007199254740992.0;  // 2^53
    if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < exact_limit) {
        return value(static_cast<std::int64_t>(x));
    }
    return value(x);
}

std::string number_text(double x) {
    return to_display_string(number_value(x));
}

}  // namespace sim

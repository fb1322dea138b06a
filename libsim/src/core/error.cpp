#include <sim/core/error.hpp>

namespace sim {

namespace {

class sim_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "sim"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::frame_too_large: return "frame larger than the maximum frame size";
            case errc::empty_frame: return "frame with an empty payload";
            case errc::truncated_frame: return "input ended inside a frame";
            case errc::invalid_message: return "payload is not a [type, id, content] message";
            case errc::decode_failed: return "payload cannot be decoded";
        }
        return "unknown sim error";
    }
};

std::string compose(const std::string& reason, const std::string& place) {
    if (place.empty()) return reason;
    // Deep places (a depth-limit error) keep their innermost part readable.
    constexpr std::size_t limit = 160;
    if (place.size() > limit) return reason + " (at ..." + place.substr(place.size() - limit) + ")";
    return reason + " (at " + place + ")";
}

}  // namespace

const std::error_category& error_category() noexcept {
    static const sim_category category;
    return category;
}

serialization_error::serialization_error(std::string reason, std::string place)
    : error(reason),
      reason_(std::move(reason)),
      place_(std::move(place)),
      what_(compose(reason_, place_)) {}

void serialization_error::prepend_place(std::string_view outer) {
    place_.insert(0, outer);
    what_ = compose(reason_, place_);
}

}  // namespace sim

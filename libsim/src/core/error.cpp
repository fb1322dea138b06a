#include <sim/core/error.hpp>

#include <tuple>
#include <utility>

namespace sim {

namespace {

class sim_category final : public std::error_category {
  public:
    const char* name() const noexcept override { return "sim"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::frame_too_large:
                return "frame larger than the maximum frame size";
            case errc::empty_frame:
                return "frame with an empty payload";
            case errc::truncated_frame:
                return "input ended inside a frame";
            case errc::invalid_message:
                return "payload is not a [type, id, content] message";
            case errc::decode_failed:
                return "payload cannot be decoded";
            case errc::timed_out:
                return "deadline passed";
            case errc::closed:
                return "closed";
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

namespace {

// The last non-empty line of a traceback: "Type: message" or just "Type".
std::pair<std::string, std::string> last_line_parts(const std::string& traceback) {
    std::size_t end = traceback.find_last_not_of("\r\n");
    if (end == std::string::npos) return {};
    std::size_t start = traceback.find_last_of('\n', end);
    start = start == std::string::npos ? 0 : start + 1;
    std::string line = traceback.substr(start, end - start + 1);
    std::size_t colon = line.find(": ");
    if (colon == std::string::npos) return {line, ""};
    return {line.substr(0, colon), line.substr(colon + 2)};
}

}  // namespace

remote_error::remote_error(std::string origin, std::string traceback)
    : error("Origin: " + origin + "\n" + traceback),
      origin_(std::move(origin)),
      traceback_(std::move(traceback)) {
    std::tie(type_, message_) = last_line_parts(traceback_);
}

void serialization_error::prepend_place(std::string_view outer) {
    place_.insert(0, outer);
    what_ = compose(reason_, place_);
}

}  // namespace sim

#include <sim/core/error.hpp>

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <new>
#include <tuple>
#include <typeinfo>
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

std::string exception_type_name(const std::exception& e) {
    if (const auto* f = dynamic_cast<const fault*>(&e)) return f->type();
    // The names a Python peer knows, for the exceptions that have one.
    if (dynamic_cast<const std::invalid_argument*>(&e)) return "ValueError";
    if (dynamic_cast<const std::domain_error*>(&e)) return "ValueError";
    if (dynamic_cast<const std::out_of_range*>(&e)) return "IndexError";
    if (dynamic_cast<const std::length_error*>(&e)) return "ValueError";
    if (dynamic_cast<const std::overflow_error*>(&e)) return "OverflowError";
    if (dynamic_cast<const std::range_error*>(&e)) return "ArithmeticError";
    if (dynamic_cast<const serialization_error*>(&e)) return "SerializationError";
    if (dynamic_cast<const lookup_error*>(&e)) return "LookupError";
    if (dynamic_cast<const type_error*>(&e)) return "TypeError";
    if (dynamic_cast<const timeout_error*>(&e)) return "TimeoutError";
    if (dynamic_cast<const connection_closed*>(&e)) return "ConnectionResetError";
    if (dynamic_cast<const connection_error*>(&e)) return "ConnectionError";
    if (dynamic_cast<const remote_error*>(&e)) return "RemoteException";
    if (dynamic_cast<const std::bad_alloc*>(&e)) return "MemoryError";
    if (dynamic_cast<const std::logic_error*>(&e)) return "RuntimeError";
    if (dynamic_cast<const std::runtime_error*>(&e)) return "RuntimeError";
    return detail::demangle(typeid(e).name());
}

std::string detail::demangle(const char* mangled) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> readable(
        abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
    return status == 0 && readable ? std::string(readable.get()) : std::string(mangled);
}

}  // namespace sim

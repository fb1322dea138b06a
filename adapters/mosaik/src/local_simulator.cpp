#include <sim/mosaik/local_simulator.hpp>

#include <stdexcept>

#include <fmt/format.h>

#include <sim/core/error.hpp>

#include "dispatcher.hpp"

namespace sim::mosaik {

local_simulator::local_simulator(std::string name, std::unique_ptr<simulator> sim)
    : name_(std::move(name)), sim_(std::move(sim)) {
    calls_ = std::make_unique<dispatcher>(*sim_, [this](std::string_view request, array args) {
        if (!handler_)
            throw std::logic_error("mosaik: " + std::string(request) +
                                   ": no master answers requests");
        return handler_(std::string(request), args);
    });
}

local_simulator::~local_simulator() = default;

// A failure reads as over a connection: the simulator, the call, the failure's type and text.
template <class F>
auto local_simulator::checked(const char* call, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const std::exception& e) {
        throw std::runtime_error(fmt::format("simulator {}: {} failed: {}: {}", name_, call,
                                             exception_type_name(e), e.what()));
    }
}

value local_simulator::init(const std::string& sid, double time_resolution, const map& params) {
    map kwargs = params;
    kwargs.insert_or_assign(value("time_resolution"), value(time_resolution));
    return checked("init", [&] { return calls_->init({value(sid)}, kwargs); });
}

value local_simulator::create(std::int64_t num, const std::string& model, const map& params) {
    return checked("create", [&] { return calls_->create({value(num), value(model)}, params); });
}

void local_simulator::setup_done() {
    checked("setup_done", [&] { calls_->setup_done(); });
}

value local_simulator::step(std::int64_t time, const value& inputs, std::int64_t max_advance) {
    return checked("step", [&] { return calls_->step(time, inputs, max_advance); });
}

value local_simulator::get_data(const value& outputs) {
    return checked("get_data", [&] { return calls_->get_data({outputs}); });
}

void local_simulator::stop() {
    if (stopped_) return;
    stopped_ = true;
    checked("finalize", [&] { calls_->finalize(); });
}

value local_simulator::call_extra(const std::string& name, array args, map kwargs) {
    return checked(name.c_str(), [&] { return calls_->dispatch(name, args, kwargs); });
}

}  // namespace sim::mosaik

#pragma once
/// A C++ simulator (`sim::mosaik::simulator`) coupled into a master in the same process: its
/// calls are function calls (no socket, no encoding), checked against its meta exactly as over
/// a connection, and its requests during `step` (`mosaik().get_progress()`, ...) go to the
/// master's handler. The scenario's `plugin:` simulators run this way.

#include <memory>
#include <string>

#include <sim/mosaik/simulator.hpp>
#include <sim/mosaik/world.hpp>

namespace sim::mosaik {

class dispatcher;

class local_simulator : public coupled_simulator {
  public:
    /// `name` is for messages (the sid, usually).
    local_simulator(std::string name, std::unique_ptr<simulator> sim);
    ~local_simulator() override;

    value init(const std::string& sid, double time_resolution, const map& params) override;
    value create(std::int64_t num, const std::string& model, const map& params) override;
    void setup_done() override;
    value step(std::int64_t time, const value& inputs, std::int64_t max_advance) override;
    value get_data(const value& outputs) override;
    /// mosaik's `stop`: the simulator's `finalize`.
    void stop() override;
    void on_request(request_handler handler) override { handler_ = std::move(handler); }

    /// An extra method by name, with mosaik's arguments.
    value call_extra(const std::string& name, array args, map kwargs = {}) override;

  private:
    template <class F>
    auto checked(const char* call, F&& f) -> decltype(f());

    std::string name_;
    std::unique_ptr<simulator> sim_;
    std::unique_ptr<dispatcher> calls_;
    request_handler handler_;
    bool stopped_ = false;
};

}  // namespace sim::mosaik

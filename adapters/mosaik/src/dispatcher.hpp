#pragma once
// mosaik's calls on a C++ simulator, checked against its meta as mosaik would have them
// checked: the part of serving a simulator that does not depend on how the calls arrive (over
// a connection from a master, or directly from a master in this process).

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <sim/codec/value.hpp>
#include <sim/mosaik/simulator.hpp>

namespace sim::mosaik {

class dispatcher {
  public:
    /// `requests` carries the simulator's calls back to its master during `step`.
    using requester = std::function<value(std::string_view name, array args)>;
    dispatcher(simulator& sim, requester requests);
    ~dispatcher();
    dispatcher(const dispatcher&) = delete;
    dispatcher& operator=(const dispatcher&) = delete;

    /// One call by name, `stop` excepted; throws `sim::fault` (or what the simulator threw)
    /// for a failure.
    value dispatch(const std::string& name, array& args, map& kwargs);
    value init(const array& args, const map& kwargs);
    value create(const array& args, const map& kwargs);
    void setup_done() { sim_.setup_done(); }
    value step(const array& args);
    /// The same, without building an argument array.
    value step(std::int64_t time, const value& inputs, std::int64_t max_advance);
    value get_data(const array& args);
    void finalize() { sim_.finalize(); }

    /// A request of the simulator's to its master (only during `step`).
    value call(std::string_view name, array args);

  private:
    const model& model_of(const std::string& eid, const char* call) const;
    void remember(const entity& e);

    simulator& sim_;
    requester requests_;
    mosaik::meta meta_;
    bool initialized_ = false;
    bool in_step_ = false;
    std::map<std::string, std::string, std::less<>> entities_;  // eid -> model
};

}  // namespace sim::mosaik

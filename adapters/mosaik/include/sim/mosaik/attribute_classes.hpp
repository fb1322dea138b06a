#pragma once
/// What a master reads from a simulator's model description: which inputs trigger a step and
/// which outputs persist (mosaik-scheduler.md §1).
///
/// An input is *trigger* (data on it schedules a step of the simulator) or *non-trigger*; an
/// output is *persistent* (its value holds until the next one) or *non-persistent* (an event,
/// seen once). The description may say as little as possible: one list (`attrs`) serves inputs
/// and outputs, and of {attrs, trigger, non-trigger} (and of {attrs, persistent,
/// non-persistent}) any two determine the third; what is not said follows the simulator's type.
/// What it says must be consistent, or the model is refused with the reason.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <sim/codec/value.hpp>
#include <sim/mosaik/simulator.hpp>

namespace sim::mosaik {

/// A set of attribute names that is either finite or "every name but these" (a model with
/// `any_inputs` accepts inputs on any attribute).
class attr_set {
  public:
    /// The finite set of `names`.
    static attr_set of(std::vector<std::string> names);
    /// Every name except `names`.
    static attr_set all_but(std::vector<std::string> names = {});

    bool contains(const std::string& name) const;
    /// Whether it is finite, and then its names, sorted.
    bool finite() const noexcept { return !complement_; }
    /// The names it holds (finite) or leaves out (infinite).
    const std::set<std::string>& names() const noexcept { return names_; }
    bool empty() const noexcept { return !complement_ && names_.empty(); }

    friend attr_set operator|(const attr_set& a, const attr_set& b);
    friend attr_set operator&(const attr_set& a, const attr_set& b);
    friend attr_set operator-(const attr_set& a, const attr_set& b);
    friend bool operator==(const attr_set& a, const attr_set& b) = default;

    /// `{a, b}` or `everything but {a, b}`.
    std::string to_string() const;

  private:
    std::set<std::string> names_;
    bool complement_ = false;
};

/// One model as a simulator's meta describes it, keeping which keys were given (an absent list
/// is inferred, an empty one is a statement).
struct model_description {
    bool is_public = true;
    std::vector<std::string> params;
    bool any_inputs = false;
    std::optional<std::vector<std::string>> attrs;
    std::optional<std::vector<std::string>> trigger;
    std::optional<std::vector<std::string>> non_trigger;
    std::optional<std::vector<std::string>> persistent;
    std::optional<std::vector<std::string>> non_persistent;

    /// From the meta's JSON (`{"public": true, "params": [...], "attrs": [...], "trigger": [...],
    /// "non-trigger": [...], "persistent": [...], "non-persistent": [...], "any_inputs": false}`).
    /// Throws `std::invalid_argument` naming the key for a value of the wrong kind.
    static model_description from_value(const value& v);
    /// From a C++ simulator's meta (`sim::mosaik::model`): empty trigger and non-persistent lists
    /// there mean "not given".
    static model_description from_model(const model& m);
};

/// The four classes of a model's attributes.
struct attribute_classes {
    attr_set non_trigger_inputs;  ///< "measurement" inputs
    attr_set trigger_inputs;      ///< "event" inputs
    attr_set persistent_outputs;
    attr_set non_persistent_outputs;

    attr_set inputs() const { return non_trigger_inputs | trigger_inputs; }
    attr_set outputs() const { return persistent_outputs | non_persistent_outputs; }
};

/// Infers and checks the classes as mosaik 3.3 does: time-based simulators have only
/// non-trigger inputs and persistent outputs, event-based ones only trigger inputs and
/// non-persistent outputs, hybrid ones non-trigger inputs unless `trigger` is given and
/// persistent outputs unless `non-persistent` is. Throws `std::invalid_argument` saying what is
/// inconsistent or missing.
attribute_classes classify_attributes(const model_description& m, sim_type type);

}  // namespace sim::mosaik

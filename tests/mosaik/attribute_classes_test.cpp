// Which inputs trigger and which outputs persist, inferred from a model description as mosaik
// 3.3 infers them (mosaik-scheduler.md §1), and the descriptions it refuses.

#include <catch2/catch.hpp>

#include <sim/codec/json_codec.hpp>
#include <sim/mosaik/attribute_classes.hpp>

using sim::mosaik::attr_set;
using sim::mosaik::classify_attributes;
using sim::mosaik::model_description;
using sim::mosaik::sim_type;

namespace {

model_description described(const char* json) {
    sim::json_codec codec;
    return model_description::from_value(codec.decode(json));
}

std::string refusal(const char* json, sim_type type) {
    try {
        (void)classify_attributes(described(json), type);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "(accepted)";
}

}  // namespace

TEST_CASE("sets of attribute names, finite or everything but some", "[mosaik][attrs]") {
    const auto ab = attr_set::of({"a", "b"});
    const auto bc = attr_set::of({"b", "c"});
    const auto not_b = attr_set::all_but({"b"});
    const auto not_c = attr_set::all_but({"c"});
    CHECK((ab | bc) == attr_set::of({"a", "b", "c"}));
    CHECK((ab & bc) == attr_set::of({"b"}));
    CHECK((ab - bc) == attr_set::of({"a"}));
    CHECK((ab | not_b) == attr_set::all_but());
    CHECK((ab & not_b) == attr_set::of({"a"}));
    CHECK((ab - not_b) == attr_set::of({"b"}));
    CHECK((not_b - ab) == attr_set::all_but({"a", "b"}));
    CHECK((not_b | not_c) == attr_set::all_but());
    CHECK((not_b & not_c) == attr_set::all_but({"b", "c"}));
    CHECK((not_b - not_c) == attr_set::of({"c"}));
    CHECK(not_b.contains("anything"));
    CHECK_FALSE(not_b.contains("b"));
    CHECK((attr_set::all_but() - attr_set::all_but()).empty());
    CHECK(not_b.to_string() == "everything but {b}");
    CHECK(ab.to_string() == "{a, b}");
}

TEST_CASE("the simulator's type gives what the description leaves out", "[mosaik][attrs]") {
    const auto time_based =
        classify_attributes(described(R"({"attrs": ["p", "q"]})"), sim_type::time_based);
    CHECK(time_based.non_trigger_inputs == attr_set::of({"p", "q"}));
    CHECK(time_based.trigger_inputs.empty());
    CHECK(time_based.persistent_outputs == attr_set::of({"p", "q"}));
    CHECK(time_based.non_persistent_outputs.empty());

    const auto event_based =
        classify_attributes(described(R"({"attrs": ["p", "q"]})"), sim_type::event_based);
    CHECK(event_based.trigger_inputs == attr_set::of({"p", "q"}));
    CHECK(event_based.non_trigger_inputs.empty());
    CHECK(event_based.non_persistent_outputs == attr_set::of({"p", "q"}));
    CHECK(event_based.persistent_outputs.empty());

    const auto hybrid_plain =
        classify_attributes(described(R"({"attrs": ["p", "q"]})"), sim_type::hybrid);
    CHECK(hybrid_plain.non_trigger_inputs == attr_set::of({"p", "q"}));
    CHECK(hybrid_plain.trigger_inputs.empty());
    CHECK(hybrid_plain.persistent_outputs == attr_set::of({"p", "q"}));

    const auto hybrid = classify_attributes(
        described(R"({"attrs": ["p", "q", "r"], "trigger": ["p"], "non-persistent": ["r"]})"),
        sim_type::hybrid);
    CHECK(hybrid.trigger_inputs == attr_set::of({"p"}));
    CHECK(hybrid.non_trigger_inputs == attr_set::of({"q", "r"}));
    CHECK(hybrid.persistent_outputs == attr_set::of({"p", "q"}));
    CHECK(hybrid.non_persistent_outputs == attr_set::of({"r"}));
    CHECK(hybrid.inputs() == attr_set::of({"p", "q", "r"}));

    // Two of three given: the third follows.
    const auto from_parts = classify_attributes(
        described(R"({"trigger": ["p"], "non-trigger": ["q"], "persistent": ["p", "q"],
                      "non-persistent": []})"),
        sim_type::hybrid);
    CHECK(from_parts.inputs() == attr_set::of({"p", "q"}));
    CHECK(from_parts.outputs() == attr_set::of({"p", "q"}));

    // any_inputs: every name is an input; outputs are still the attrs.
    const auto any = classify_attributes(
        described(R"({"attrs": ["out"], "any_inputs": true, "trigger": ["go"]})"),
        sim_type::hybrid);
    CHECK(any.trigger_inputs == attr_set::of({"go"}));
    CHECK(any.non_trigger_inputs == attr_set::all_but({"go"}));
    CHECK(any.outputs() == attr_set::of({"out"}));
    CHECK(
        classify_attributes(described(R"({"attrs": [], "any_inputs": true})"), sim_type::time_based)
            .non_trigger_inputs == attr_set::all_but());

    // An empty list is a statement, not an absence.
    CHECK_NOTHROW(
        classify_attributes(described(R"({"attrs": ["p"], "trigger": []})"), sim_type::time_based));

    // A C++ simulator's meta: empty trigger and non-persistent lists mean "not given".
    sim::mosaik::model cpp{.attrs = {"delta", "val"}, .trigger = {"delta"}};
    const auto example = classify_attributes(model_description::from_model(cpp), sim_type::hybrid);
    CHECK(example.trigger_inputs == attr_set::of({"delta"}));
    CHECK(example.non_trigger_inputs == attr_set::of({"val"}));
}

TEST_CASE("inconsistent or insufficient descriptions are refused with the reason",
          "[mosaik][attrs]") {
    CHECK(refusal(R"({"attrs": ["p"], "trigger": ["p"]})", sim_type::time_based) ==
          "time-based simulators may not have trigger attrs (a hybrid simulator may have both "
          "kinds of inputs), and with the key non-trigger they must list all their attrs there");
    CHECK(refusal(R"({"attrs": ["p"], "persistent": ["p"]})", sim_type::event_based)
              .starts_with("event-based simulators may not have persistent attrs"));
    CHECK(refusal(R"({"attrs": ["p"], "non-persistent": ["p"]})", sim_type::time_based)
              .starts_with("time-based simulators may not have non-persistent attrs"));
    CHECK(refusal(R"({"attrs": ["p"], "non-trigger": ["p"]})", sim_type::event_based)
              .starts_with("event-based simulators may not have non-trigger attrs"));
    CHECK(refusal(R"({"attrs": ["p"], "trigger": ["z"]})", sim_type::hybrid) ==
          "non-trigger ({p}) and trigger ({z}) must be subsets of attrs ({p}) and, both given, "
          "make up all of it");
    CHECK(refusal(R"({"attrs": ["p", "q"], "trigger": ["p"], "non-trigger": ["p", "q"]})",
                  sim_type::hybrid) == "non-trigger ({p, q}) and trigger ({p}) are not disjoint");
    CHECK(refusal(R"({"trigger": ["p"]})", sim_type::hybrid) ==
          "at least two of attrs, non-trigger and trigger must be given");
    CHECK(refusal(R"({})", sim_type::time_based) ==
          "at least two of attrs, non-trigger and trigger must be given");
    CHECK(refusal(R"({"attrs": "p"})", sim_type::hybrid) == "attrs: expected a list of names");
    CHECK(refusal(R"({"attrs": ["p"], "public": 1})", sim_type::hybrid) ==
          "public: expected true or false");
    CHECK(refusal(R"([1])", sim_type::hybrid) == "a model description is a mapping");
}

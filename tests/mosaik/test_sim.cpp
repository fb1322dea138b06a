// A simulator for the mosaik adapter's tests, driven by a master written for them
// (mosaik_test.cpp). Its behaviour comes from init's sim_params:
//   fail_init: true      init throws (the connection must close without a reply)
//   crash_at: T          the process aborts inside step(T)
//   call_back: true      step calls mosaik back (get_progress, get_related_entities, set_event)
// Model "Echo" (event-based): attrs in, out; `out` is what `in` last received, summed.
// Extra methods: `echo(x)` returns x; `progress()` what get_progress answered last;
// `scaled(x, factor=2.0)` x * factor (typed); `count_arguments(*args, **kwargs)` how many came.

#include <cstdlib>
#include <map>
#include <string>

#include <sim/mosaik/simulator.hpp>

namespace {

class test_sim : public sim::mosaik::simulator {
  public:
    test_sim() {
        extra_method(
            "echo", [](sim::value x) { return x; }, sim::arg("x"));
        extra_method("progress", [this] { return progress_; });
        extra_method("scaled", &test_sim::scaled, this, sim::arg("x"), sim::arg("factor") = 2.0);
        extra_method_raw("count_arguments", [](const sim::array& args, const sim::map& kwargs) {
            return sim::value(static_cast<std::int64_t>(args.size() + kwargs.size()));
        });
    }

    double scaled(double x, double factor) const { return x * factor; }

    sim::mosaik::meta meta() const override {
        sim::mosaik::meta m;
        m.type = sim::mosaik::sim_type::event_based;
        m.models["Echo"] = {.params = {"start"}, .attrs = {"in", "out"}};
        m.models["Hidden"] = {.is_public = false, .attrs = {"x"}};
        return m;
    }

    void init(const std::string&, double, const sim::map& params) override {
        if (const auto* v = params.find(sim::value("fail_init")); v != nullptr && v->as_bool()) {
            throw std::runtime_error("init was told to fail");
        }
        if (const auto* v = params.find(sim::value("crash_at"))) crash_at_ = v->as<std::int64_t>();
        if (const auto* v = params.find(sim::value("call_back"))) call_back_ = v->as_bool();
    }

    std::vector<sim::mosaik::entity> create(int num, const std::string& model,
                                            const sim::map& params) override {
        double start = 0;
        if (const auto* v = params.find(sim::value("start"))) start = v->as<double>();
        std::vector<sim::mosaik::entity> made;
        for (int i = 0; i < num; ++i) {
            std::string eid = "E" + std::to_string(out_.size());
            out_[eid] = start;
            made.push_back({eid, model, {}, {}, {}});
        }
        return made;
    }

    std::optional<std::int64_t> step(std::int64_t time, const sim::mosaik::inputs& in,
                                     std::int64_t) override {
        if (crash_at_ && *crash_at_ == time) std::abort();
        for (const auto& [eid, attrs] : in) {
            double sum = 0;
            for (const auto& [src, v] : attrs.at("in"))
                sum += v.as<double>();
            out_[eid] = sum;
        }
        if (call_back_) {
            progress_ = mosaik().get_progress();
            related_ = mosaik().get_related_entities();
            fetched_ = mosaik().get_data(sim::value(
                sim::map{{sim::value("Other-0.X"), sim::value(sim::array{sim::value("v")})}}));
            mosaik().set_data(sim::value(sim::map{
                {sim::value("T-0.E0"),
                 sim::value(sim::map{{sim::value("Other-0.X"),
                                      sim::value(sim::map{{sim::value("v"), sim::value(7)}})}})}}));
            mosaik().set_event(time + 5);
        }
        return std::nullopt;
    }

    sim::value get_data(const sim::mosaik::outputs& wanted) override {
        sim::map data;
        for (const auto& [eid, attrs] : wanted) {
            sim::map values;
            for (const auto& a : attrs)
                values.insert_or_assign(sim::value(a), sim::value(a == "out" ? out_[eid] : 0.0));
            data.insert_or_assign(sim::value(eid), sim::value(std::move(values)));
        }
        if (call_back_) {
            data.insert_or_assign(sim::value("related"), related_);
            data.insert_or_assign(sim::value("fetched"), fetched_);
        }
        return sim::value(std::move(data));
    }

  private:
    std::optional<std::int64_t> crash_at_;
    bool call_back_ = false;
    double progress_ = -1;
    sim::value related_;
    sim::value fetched_;
    std::map<std::string, double> out_;
};

}  // namespace

int main(int argc, char** argv) {
    return sim::mosaik::main<test_sim>(argc, argv);
}

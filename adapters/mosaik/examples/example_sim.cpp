// The model of mosaik's own tutorial in C++: ExampleSim with ExampleModel, whose `val` grows by
// `delta` each step (hybrid: `delta` is a trigger input). From a mosaik scenario:
//
//     SIM_CONFIG = {"ExampleSim": {"cmd": "/path/to/example-sim %(addr)s"}}
//     examplesim = world.start("ExampleSim", eid_prefix="Model_")
//     models = examplesim.ExampleModel.create(2, init_val=2)
//
// The same file builds the simulator plugin libexample-sims.so, which sim-runner's master runs
// in its own process, with no socket between them:
//
//     sim_config: {ExampleSim: {plugin: libexample-sims.so}}

#include <map>
#include <string>

#include <sim/mosaik/plugin.hpp>
#include <sim/mosaik/simulator.hpp>

namespace {

struct example_model {
    double val;
    double delta = 1;
    void step() { val += delta; }
};

class example_sim : public sim::mosaik::simulator {
  public:
    sim::mosaik::meta meta() const override {
        sim::mosaik::meta m;
        m.type = sim::mosaik::sim_type::hybrid;
        m.models["ExampleModel"] = {
            .params = {"init_val"}, .attrs = {"delta", "val"}, .trigger = {"delta"}};
        return m;
    }

    void init(const std::string&, double time_resolution, const sim::map& params) override {
        time_resolution_ = time_resolution;
        if (const sim::value* p = params.find(sim::value("eid_prefix"))) prefix_ = p->as_string();
    }

    std::vector<sim::mosaik::entity> create(int num, const std::string& model,
                                            const sim::map& params) override {
        double init_val = 0;
        if (const sim::value* v = params.find(sim::value("init_val"))) init_val = v->as<double>();
        std::vector<sim::mosaik::entity> made;
        for (int i = 0; i < num; ++i) {
            std::string eid = prefix_ + std::to_string(models_.size());
            models_.emplace(eid, example_model{init_val});
            made.push_back({eid, model, {}, {}, {}});
        }
        return made;
    }

    std::optional<std::int64_t> step(std::int64_t time, const sim::mosaik::inputs& in,
                                     std::int64_t) override {
        for (auto& [eid, m] : models_) {
            if (auto it = in.find(eid); it != in.end()) {
                if (auto d = it->second.find("delta"); d != it->second.end()) {
                    double delta = 0;
                    for (const auto& [src, v] : d->second)
                        delta += v.as<double>();
                    m.delta = delta;
                }
            }
            m.step();
        }
        return time + 1;
    }

    sim::value get_data(const sim::mosaik::outputs& wanted) override {
        sim::map data;
        for (const auto& [eid, attrs] : wanted) {
            const example_model& m = models_.at(eid);
            sim::map values;
            for (const auto& a : attrs)
                values.insert_or_assign(sim::value(a), sim::value(a == "val" ? m.val : m.delta));
            data.insert_or_assign(sim::value(eid), sim::value(std::move(values)));
        }
        return sim::value(std::move(data));
    }

  private:
    std::string prefix_ = "Model_";
    double time_resolution_ = 1;
    std::map<std::string, example_model> models_;
};

}  // namespace

SIM_MOSAIK_PLUGIN(sims) {
    sims.add<example_sim>("ExampleSim");
}

#ifndef SIM_MOSAIK_PLUGIN_LIBRARY
int main(int argc, char** argv) {
    return sim::mosaik::main<example_sim>(argc, argv,
                                          "mosaik's ExampleSim (ExampleModel: val grows by delta)");
}
#endif

// A mosaik simulator built against the installed package (find_package(libsim COMPONENTS
// mosaik)): one model whose entities count their steps, and an extra method with a signature.

#include <sim/mosaik/simulator.hpp>

namespace {

class counter_sim : public sim::mosaik::simulator {
  public:
    counter_sim() {
        extra_method(
            "reset", [this](int to) { steps_ = to; }, sim::arg("to") = 0);
    }
    sim::mosaik::meta meta() const override {
        sim::mosaik::meta m;
        m.models["Counter"] = {.attrs = {"steps"}};
        return m;
    }
    std::vector<sim::mosaik::entity> create(int num, const std::string& model,
                                            const sim::map&) override {
        std::vector<sim::mosaik::entity> made;
        for (int i = 0; i < num; ++i)
            made.push_back({.eid = "c" + std::to_string(i), .type = model});
        return made;
    }
    std::optional<std::int64_t> step(std::int64_t time, const sim::mosaik::inputs&,
                                     std::int64_t) override {
        ++steps_;
        return time + 1;
    }
    sim::value get_data(const sim::mosaik::outputs& wanted) override {
        sim::map out;
        for (const auto& [eid, attrs] : wanted)
            out.insert_or_assign(sim::value(eid),
                                 sim::map{{sim::value("steps"), sim::value(steps_)}});
        return out;
    }

  private:
    int steps_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    return sim::mosaik::main<counter_sim>(argc, argv, "counts its steps, for mosaik");
}

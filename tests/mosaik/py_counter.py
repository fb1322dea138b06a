"""A mosaik simulator written against mosaik-api-v3 (the stand-in here), which the master runs
with sim_config {Counter: {python: "py_counter:Counter"}}: model Count, whose `n` counts the
steps, every `step_size`."""

import mosaik_api_v3


class Counter(mosaik_api_v3.Simulator):
    def __init__(self):
        super().__init__({"type": "time-based",
                          "models": {"Count": {"public": True, "params": [], "attrs": ["n"]}}})
        self.n = 0
        self.step_size = 1

    def init(self, sid, time_resolution=1.0, step_size=1):
        self.step_size = step_size
        return self.meta

    def create(self, num, model):
        return [{"eid": "c%d" % i, "type": model} for i in range(num)]

    def step(self, time, inputs, max_advance):
        self.n += 1
        return time + self.step_size

    def get_data(self, outputs):
        return {eid: {"n": self.n} for eid in outputs}

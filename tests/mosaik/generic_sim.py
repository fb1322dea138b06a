#!/usr/bin/env python3
"""A mosaik simulator in Python with the standard library only: it speaks mosaik's low-level
protocol itself (four-byte big-endian length, then JSON [type, id, content]; see
mosaik-api.md), to show that a master talks to simulators of any language. Its behaviour is
set by init's sim params:

  step_type      "time-based" (default), "event-based" or "hybrid"
  step_size      time-based: the next step is this much later (default 1)
  self_steps     event-based and hybrid: {"step time": next step}, other steps ask for none
  output_timing  {"step time": output time}: get_data says "time" then, and nothing at other
                 steps; without it every step outputs val_out = the step's time
  trigger        hybrid: the inputs that trigger a step
  hang_at        a step time at which step never returns (after writing the file hang_mark):
                 a simulator stuck in its work, which only its lifeline ends
  meet_at        a step time at which the step opens the FIFO meet_fifo, as its writer when
                 meet_as is "writer", else as its reader: each open returns only once the other
                 end is open too, so the step ends only if another simulator's step (meeting
                 it there) runs at the same time; after 20 s alone the process ends (SIGALRM)
  async_peer     a full entity id: each step asks the master for its val_out (get_data) and
                 sets its val_in to 23 (set_data), as an agent over an async_requests connection

Model "A" has attrs val_in, trigger_in, val_out, never_out and the param extra_info; the extra
method method_a(arg) answers "method_a(<arg>)".

  generic_sim.py HOST:PORT     connects to the master at HOST:PORT
"""

import json
import os
import signal
import socket
import time
import struct
import sys

REQUEST, RESULT, FAILURE = 0, 1, 2


class Failure(Exception):
    def __init__(self, type_name, message):
        super().__init__(message)
        self.type_name = type_name


class GenericSim:
    def __init__(self):
        self.entities = []
        self.time = None
        self.step_type = "time-based"
        self.step_size = 1
        self.self_steps = {}
        self.output_timing = None
        self.hang_at = None
        self.hang_mark = None
        self.meet = None
        self.sid = None
        self.async_peer = None
        self.ask = None  # sends a request to the master and returns its answer

    def init(self, sid, time_resolution=1.0, step_type="time-based", step_size=1,
             self_steps=None, output_timing=None, trigger=None, hang_at=None, hang_mark=None,
             meet_at=None, meet_fifo=None, meet_as="reader", async_peer=None):
        self.sid = sid
        self.async_peer = async_peer
        if step_type not in ("time-based", "event-based", "hybrid"):
            raise Failure("ValueError", "step_type: " + str(step_type))
        self.step_type = step_type
        self.step_size = step_size
        self.hang_at = hang_at
        self.hang_mark = hang_mark
        if meet_at is not None:
            self.meet = (meet_at, meet_fifo, os.O_WRONLY if meet_as == "writer" else os.O_RDONLY)
        self.self_steps = {int(k): v for k, v in (self_steps or {}).items()}
        self.output_timing = (None if output_timing is None
                              else {int(k): v for k, v in output_timing.items()})
        model = {"public": True, "params": ["extra_info"],
                 "attrs": ["val_in", "trigger_in", "val_out", "never_out"]}
        if trigger is not None:
            model["trigger"] = trigger
        if step_type == "hybrid":
            model["non-persistent"] = []
        return {"api_version": "3.0", "type": step_type, "models": {"A": model},
                "extra_methods": ["method_a"]}

    def create(self, num, model, extra_info=None):
        if model != "A":
            raise Failure("ValueError", "no model " + str(model))
        first = len(self.entities)
        made = [str(i) for i in range(first, first + num)]
        self.entities.extend(made)
        return [{"eid": eid, "type": model, "extra_info": extra_info} for eid in made]

    def setup_done(self):
        return None

    def step(self, time, inputs, max_advance=None):
        self.time = time
        if time == self.hang_at:
            if self.hang_mark:
                with open(self.hang_mark, "w") as mark:
                    mark.write("stuck\n")
            while True:
                sleep_for_an_hour()
        if self.meet is not None and time == self.meet[0]:
            signal.alarm(20)
            os.close(os.open(self.meet[1], self.meet[2]))
            signal.alarm(0)
        if self.async_peer is not None:
            self.ask("get_data", [{self.async_peer: ["val_out"]}])
            self.ask("set_data", [{self.sid + ".0": {self.async_peer: {"val_in": 23}}}])
        if self.step_type == "time-based":
            return time + self.step_size
        return self.self_steps.get(time)

    def get_data(self, outputs):
        values = {eid: {"val_out": self.time} for eid in self.entities}
        if self.output_timing is None:
            return values
        at = self.output_timing.pop(self.time, None)
        if at is None:
            return {}
        return dict(time=at, **values)

    def method_a(self, arg):
        return "method_a(%s)" % (arg,)


def sleep_for_an_hour():
    time.sleep(3600)


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("the master closed the connection")
        data += chunk
    return data


def write_frame(sock, message):
    payload = json.dumps(message).encode("utf-8")
    sock.sendall(struct.pack(">I", len(payload)) + payload)


def asker(sock):
    """Sends requests to the master (ids of our own) and waits for each reply."""
    next_id = [0]

    def ask(name, args):
        msg_id = next_id[0]
        next_id[0] += 1
        write_frame(sock, [REQUEST, msg_id, [name, args, {}]])
        while True:
            (length,) = struct.unpack(">I", read_exact(sock, 4))
            kind, got_id, content = json.loads(read_exact(sock, length).decode("utf-8"))
            if kind == RESULT and got_id == msg_id:
                return content
            if kind == FAILURE and got_id == msg_id:
                raise Failure("RuntimeError", "the master answered %s with %s" % (name, content))
    return ask


def serve(sock):
    sim = GenericSim()
    sim.ask = asker(sock)
    calls = {"init": sim.init, "create": sim.create, "setup_done": sim.setup_done,
             "step": sim.step, "get_data": sim.get_data, "method_a": sim.method_a}
    while True:
        (length,) = struct.unpack(">I", read_exact(sock, 4))
        kind, msg_id, content = json.loads(read_exact(sock, length).decode("utf-8"))
        if kind != REQUEST:
            continue  # this simulator asks the master nothing
        name, args, kwargs = content
        if name == "stop":
            return 0
        try:
            if name not in calls:
                raise Failure("AttributeError", "no method " + name)
            write_frame(sock, [RESULT, msg_id, calls[name](*args, **kwargs)])
        except Failure as e:
            write_frame(sock, [FAILURE, msg_id, [e.type_name, str(e), ""]])
        except TypeError as e:
            write_frame(sock, [FAILURE, msg_id, ["TypeError", str(e), ""]])


def main(argv):
    if len(argv) != 2 or ":" not in argv[1]:
        sys.stderr.write("usage: generic_sim.py HOST:PORT\n")
        return 2
    host, port = argv[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.settimeout(None)
        try:
            return serve(sock)
        except EOFError:
            return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""A time-of-use electricity tariff as a mosaik simulator, in Python with the standard library
only: it speaks mosaik's low-level protocol (a four-byte big-endian length, then the JSON
message [type, id, content]) itself, as any language can.

Model "Tariff" (no parameters) has one output, price (per kWh): 0.20 from midnight to 06:00,
0.42 from 17:00 to 21:00, 0.28 otherwise. It steps every `step_size` seconds of simulated time
(init's sim param, default 900), whatever the world's time_resolution.

    tariff.py HOST:PORT      connects to the master listening at HOST:PORT
"""

import json
import socket
import struct
import sys

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {"Tariff": {"public": True, "params": [], "attrs": ["price"]}},
}


def price_at(seconds):
    hour = (seconds % 86400) // 3600
    if hour < 6:
        return 0.20
    if 17 <= hour < 21:
        return 0.42
    return 0.28


class Tariff:
    def __init__(self):
        self.resolution = 1.0
        self.step_size = 900
        self.entities = []
        self.now = 0

    def init(self, sid, time_resolution=1.0, step_size=900):
        self.resolution = float(time_resolution)
        self.step_size = step_size
        return META

    def create(self, num, model):
        made = []
        for _ in range(num):
            eid = "tariff_%d" % len(self.entities)
            self.entities.append(eid)
            made.append({"eid": eid, "type": model})
        return made

    def setup_done(self):
        return None

    def step(self, time, inputs, max_advance=None):
        self.now = time
        steps = max(1, round(self.step_size / self.resolution))
        return time + steps

    def get_data(self, outputs):
        price = price_at(self.now * self.resolution)
        return {eid: {attr: price for attr in attrs} for eid, attrs in outputs.items()}


def frames(conn):
    """Yields each message the master sends, until it closes the connection."""
    stream = conn.makefile("rb")
    while True:
        header = stream.read(4)
        if len(header) < 4:
            return
        (size,) = struct.unpack(">I", header)
        yield json.loads(stream.read(size).decode("utf-8"))


def send(conn, message):
    body = json.dumps(message).encode("utf-8")
    conn.sendall(struct.pack(">I", len(body)) + body)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: tariff.py HOST:PORT\n")
        return 2
    host, port = argv[1].rsplit(":", 1)
    conn = socket.create_connection((host, int(port)))
    sim = Tariff()
    for kind, msg_id, content in frames(conn):
        if kind != 0:
            continue  # no requests of ours are in flight: nothing to answer
        method, args, kwargs = content
        if method == "stop":
            break
        try:
            if method not in ("init", "create", "setup_done", "step", "get_data"):
                raise AttributeError("no method " + method)
            send(conn, [1, msg_id, getattr(sim, method)(*args, **kwargs)])
        except Exception as e:  # the master gets the failure, the simulator goes on
            send(conn, [2, msg_id, "%s: %s" % (type(e).__name__, e)])
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

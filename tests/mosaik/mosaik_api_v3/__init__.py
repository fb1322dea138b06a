"""A stand-in for the package mosaik-api-v3, for the tests only: the part of its API that a
simulator and the master's python: starter use (Simulator, start_simulation), over the
low-level protocol that generic_sim.py speaks. With the real package installed the tests would
run the same."""

import json
import socket
import struct
import sys

from generic_sim import REQUEST, RESULT, FAILURE, read_exact, write_frame


class Simulator:
    def __init__(self, meta):
        self.meta = dict(meta, api_version="3.0")

    def init(self, sid, time_resolution=1.0, **sim_params):
        return self.meta

    def setup_done(self):
        return None

    def finalize(self):
        return None


def start_simulation(simulator, description="", extra_options=None, configure=None):
    host, port = sys.argv[1].rsplit(":", 1)
    with socket.create_connection((host, int(port))) as sock:
        while True:
            (length,) = struct.unpack(">I", read_exact(sock, 4))
            kind, msg_id, (name, args, kwargs) = json.loads(read_exact(sock, length))
            if kind != REQUEST:
                continue
            if name == "stop":
                simulator.finalize()
                return 0
            try:
                write_frame(sock, [RESULT, msg_id, getattr(simulator, name)(*args, **kwargs)])
            except Exception as e:
                write_frame(sock, [FAILURE, msg_id, [type(e).__name__, str(e), ""]])

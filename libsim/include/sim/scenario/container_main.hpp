#pragma once
/// A ready-made `main` for a container process (aiomas' subproc): your agent types, our command
/// line. Part of `sim::scenario`.

#include <sim/agent/registry.hpp>

namespace sim {

/// Runs a container with a `sim::manager` (agent "0") that makes agents of the types in
/// `types`, and the functions a scenario runner drives it with (`runner/...`), until the manager's
/// `stop()` (or SIGINT/SIGTERM). Options: `--address URL` (default `tcp://127.0.0.1:0`), `--name`,
/// `--codec`, `--virtual START` (virtual time from that date;
/// `--init-time T`), `--seed N`, `--coordinated`, `--hold-starts` (see
/// `container::hold_starts`); `--help` lists them. Once it listens it
/// prints `listening <base URL>` on a line of its own on standard output, so that a parent
/// process learns the address. Returns the process's exit status.
///
///     int main(int argc, char** argv) {
///         sim::agent_registry types;
///         types.add<household, double>("household", sim::arg("pv_kw"));
///         return sim::container_main(argc, argv, types);
///     }
int container_main(int argc, char** argv, const agent_registry& types);

}  // namespace sim

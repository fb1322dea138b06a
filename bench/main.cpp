// sim-bench: Google Benchmark's main. Each bench/*.cpp registers its own benchmarks. The agent
// benchmarks start this program again as a child process (`--agent-child ...`): a container to
// step over RPC, or a raw echo server as their floor.

#include <string_view>

#include <benchmark/benchmark.h>

namespace sim::bench {
int agent_child_main(int argc, char** argv);
}

int main(int argc, char** argv) {
    if (argc > 1 && std::string_view(argv[1]) == "--agent-child")
        return sim::bench::agent_child_main(argc, argv);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

// sim-bench: Google Benchmark's main. Each bench/*.cpp registers its own benchmarks.

#include <benchmark/benchmark.h>

BENCHMARK_MAIN();

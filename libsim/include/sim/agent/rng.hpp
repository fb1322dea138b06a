#pragma once
/// Each agent's own random numbers: small, fast, and the same on every run for the same seed.

#include <cstdint>
#include <limits>
#include <string_view>

namespace sim {

/// xoshiro256** (Blackman and Vigna): 32 bytes of state, so that a million agents can each own
/// one, and a UniformRandomBitGenerator for the standard distributions. The members below are
/// exact on every platform; the standard distributions are exact only for one standard library.
class rng {
  public:
    using result_type = std::uint64_t;

    /// Seeded through splitmix64, as the authors recommend.
    explicit rng(std::uint64_t seed = 0) noexcept;
    /// Seeded from a run's seed and a name (an agent's address), so that each agent of a run
    /// draws its own stream whatever order the agents are made in.
    rng(std::uint64_t seed, std::string_view name) noexcept;

    static constexpr result_type min() noexcept { return 0; }
    static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }
    result_type operator()() noexcept;

    /// Uniform in [0, 1), 53 random bits.
    double uniform() noexcept;
    /// Uniform in [a, b).
    double uniform(double a, double b) noexcept { return a + (b - a) * uniform(); }
    /// Uniform integer in [0, n), without bias; 0 when n is 0.
    std::uint64_t below(std::uint64_t n) noexcept;
    /// Uniform integer in [a, b].
    std::int64_t between(std::int64_t a, std::int64_t b) noexcept;
    /// True with probability p.
    bool chance(double p) noexcept { return uniform() < p; }
    /// Normally distributed (Marsaglia's polar method).
    double normal(double mean = 0, double stddev = 1) noexcept;

  private:
    std::uint64_t s_[4];
};

}  // namespace sim

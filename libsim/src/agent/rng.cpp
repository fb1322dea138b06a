#include <sim/agent/rng.hpp>

#include <cmath>

namespace sim {

namespace {

std::uint64_t splitmix64(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

__extension__ using u128 = unsigned __int128;

constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
    return (x << k) | (x >> (64 - k));
}

std::uint64_t fnv1a(std::uint64_t seed, std::string_view name) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    auto mix = [&](unsigned char c) {
        h ^= c;
        h *= 0x100000001b3ULL;
    };
    for (int i = 0; i < 8; ++i)
        mix(static_cast<unsigned char>(seed >> (8 * i)));
    for (char c : name)
        mix(static_cast<unsigned char>(c));
    return h;
}

}  // namespace

rng::rng(std::uint64_t seed) noexcept {
    for (auto& s : s_)
        s = splitmix64(seed);
}

rng::rng(std::uint64_t seed, std::string_view name) noexcept : rng(fnv1a(seed, name)) {}

rng::result_type rng::operator()() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

double rng::uniform() noexcept {
    return static_cast<double>((*this)() >> 11) * 0x1.0p-53;
}

std::uint64_t rng::below(std::uint64_t n) noexcept {
    if (n == 0) return 0;
    // Lemire's nearly divisionless method.
    u128 m = static_cast<u128>((*this)()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
        const std::uint64_t threshold = -n % n;
        while (low < threshold) {
            m = static_cast<u128>((*this)()) * n;
            low = static_cast<std::uint64_t>(m);
        }
    }
    return static_cast<std::uint64_t>(m >> 64);
}

std::int64_t rng::between(std::int64_t a, std::int64_t b) noexcept {
    if (b < a) return a;
    const auto span = static_cast<std::uint64_t>(b) - static_cast<std::uint64_t>(a);
    if (span == std::numeric_limits<std::uint64_t>::max())
        return static_cast<std::int64_t>((*this)());
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + below(span + 1));
}

double rng::normal(double mean, double stddev) noexcept {
    double u, v, s;
    do {
        u = 2 * uniform() - 1;
        v = 2 * uniform() - 1;
        s = u * u + v * v;
    } while (s >= 1 || s == 0);
    return mean + stddev * u * std::sqrt(-2 * std::log(s) / s);
}

}  // namespace sim

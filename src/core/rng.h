// The project's random numbers: SplitMix64 (Steele, Lea, Flood 2014) with our own
// conversions to bounded integers and reals, because the standard distributions are
// implementation-defined (std::uniform_real_distribution may give other numbers under
// another standard library). A seed therefore fixes the same initial weights, shuffles,
// augmentations and benchmark inputs on every platform. Streams are keyed, not chained:
// derive_seed() makes the generator for (seed, epoch, batch) or (seed, layer) from those
// numbers directly, so no stream depends on one drawn before it.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>

namespace xcept {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t next_u64() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n), n > 0, with no modulo bias (rejects the short final stretch).
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do r = next_u64();
    while (r >= limit);
    return r % n;
  }

  bool coin() { return (next_u64() >> 63) != 0; }

  // Uniform in [0, 1) from the top 53 bits: exact, the same everywhere.
  double uniform01() { return double(next_u64() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform01(); }
  // Standard normal (Box-Muller, one value per pair of draws). Uses log, sqrt and cos,
  // which libms round within an ulp: equal everywhere up to that.
  double normal() {
    const double u1 = 1.0 - uniform01();  // (0, 1]: log stays finite
    const double u2 = uniform01();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t state_;
};

// A seed for the stream named by `keys` under `seed`; distinct keys give unrelated streams.
inline uint64_t derive_seed(uint64_t seed, std::initializer_list<uint64_t> keys) {
  uint64_t h = seed;
  for (uint64_t k : keys) {
    SplitMix64 mix(h ^ (k * 0xd1342543de82ef95ull));
    h = mix.next_u64();
  }
  return h;
}

}  // namespace xcept

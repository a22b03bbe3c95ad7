// Inverted dropout. Training: each element is kept with probability 1 - rate and scaled
// by 1 / (1 - rate), so inference is the identity and the expected activation matches.
//
// The mask comes from the layer's own generator (std::mt19937_64 seeded at construction)
// rather than the graph's: a run is reproducible from (graph seed, dropout seeds), and
// adding a dropout layer does not shift the initial weights of every later layer. Each
// training forward draws one 64-bit value per element, advancing the generator; reseed()
// restarts the sequence (used by gradient checks, which need the same mask every call).
#pragma once

#include <vector>

#include "layers/layer.h"

namespace xcept {

class Dropout : public Layer {
 public:
  Dropout(std::string name, float rate, uint64_t seed);  // rate in [0, 1)
  const char* type() const override { return "Dropout"; }

  float rate() const { return rate_; }
  void reseed(uint64_t seed) override { gen_.seed(seed); }

  Dims build(const std::vector<Dims>& inputs, Rng& rng) override;
  void forward(const std::vector<const Tensor*>& in, Tensor& out, bool training) override;
  // Applies the mask of the last forward (none after an inference forward).
  void backward(const std::vector<const Tensor*>& in, const Tensor& out, const Tensor& dout,
                const std::vector<Tensor*>& din) override;
  bool backward_in_place() const override { return true; }

 private:
  float rate_;
  std::mt19937_64 gen_;
  std::vector<float> mask_;  // 0 or 1/(1-rate) per element; empty: identity
};

}  // namespace xcept

// A small synthetic IDX dataset that the small models learn in a few epochs: class c of 4
// lights up quadrant c of an 8x8 image, with noise.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "io_test_support.h"

namespace xcept::test {

inline void put_u32(std::vector<uint8_t>& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
}

// Writes DIR/PREFIX-images-idx3-ubyte and DIR/PREFIX-labels-idx1-ubyte ("train", "t10k").
inline void write_quadrant_idx(const std::string& dir, const std::string& prefix, int n,
                               uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> images, labels;
  put_u32(images, 0x803), put_u32(images, uint32_t(n)), put_u32(images, 8), put_u32(images, 8);
  put_u32(labels, 0x801), put_u32(labels, uint32_t(n));
  for (int i = 0; i < n; ++i) {
    int c = int(rng() % 4);
    labels.push_back(uint8_t(c));
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 8; ++x) {
        bool lit = (y / 4) * 2 + (x / 4) == c;
        images.push_back(uint8_t((lit ? 160 : 20) + rng() % 60));
      }
  }
  write_bytes(dir + "/" + prefix + "-images-idx3-ubyte", images);
  write_bytes(dir + "/" + prefix + "-labels-idx1-ubyte", labels);
}

}  // namespace xcept::test

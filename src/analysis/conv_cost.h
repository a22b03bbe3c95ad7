// Parameters and multiply-accumulates of convolutions, by the formulas of the papers
// (docs/reference: normal C K^2 M, grouped / g, depthwise K^2 C d, pointwise C M,
// separable C (K^2 + M)), generalised to any stride and padding through the output size.
// MACs count every tap of every output pixel, padding included, per image, as Keras,
// the MobileNet paper ("mult-adds") and Xception's figures do.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/conv_shape.h"

namespace xcept {

struct Cost {
  int64_t params = 0;
  int64_t macs = 0;  // per image
  Cost& operator+=(const Cost& o) {
    params += o.params;
    macs += o.macs;
    return *this;
  }
};

// Weights (+ bias when has_bias) and MACs of one convolution, per image.
Cost conv_cost(const ConvShape& s, bool has_bias);

// One layer shape asked of every member of the family, as `xcept convs` prints it.
struct FamilyQuery {
  int64_t h = 0, w = 0, c = 0;  // input
  int64_t m = 0;                // output channels
  int64_t k = 3;                // kernel size (square)
  int64_t groups = 1;           // for the grouped row; 1 means "pick 2 if it divides"
  int64_t stride = 1;
  int64_t multiplier = 1;       // depthwise channel multiplier
  Padding padding = Padding::same();
  bool bias = false;
};

struct FamilyRow {
  std::string type;     // "normal", "grouped (g=4)", ...
  std::string formula;  // the params formula, e.g. "K^2 C M"
  int64_t ho = 0, wo = 0, out_channels = 0;
  Cost cost;
  std::vector<ConvShape> convs;  // the convolution(s) it is, in order (batch 1)
};

// Rows: normal, grouped, depthwise, pointwise, depthwise separable (depthwise then
// pointwise), and Xception's order (pointwise then depthwise). Throws xcept::Error
// naming the row's layer when the shape does not fit.
std::vector<FamilyRow> convolution_family_costs(const FamilyQuery& q);

}  // namespace xcept

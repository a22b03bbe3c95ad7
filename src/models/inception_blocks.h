// The Inception-style modules that Xception grew from (Xception paper, Figures 1-4),
// as reusable blocks. Every convolution is followed by batch norm and ReLU, as in
// Inception v3.
#pragma once

#include <string>

#include "models/blocks.h"

namespace xcept::models {

// Figure 1: 1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 -> 3x3 | avg-pool 3x3 -> 1x1, concatenated.
struct InceptionV3Filters {
  int64_t b1x1, b3x3_reduce, b3x3, dbl_reduce, dbl3x3, pool_proj;
};
NodeId inception_v3_module(Graph& g, NodeId x, const std::string& prefix,
                           const InceptionV3Filters& f);

// Figure 2: one kernel size, no pooling tower: `branches` x (1x1 reduce -> 3x3 filters).
NodeId simplified_inception_module(Graph& g, NodeId x, const std::string& prefix,
                                   int branches, int64_t reduce, int64_t filters);

// Figure 4: one 1x1 convolution, then one 3x3 spatial convolution per output channel
// (pointwise then depthwise, with Inception's ReLU between), then BN and ReLU.
NodeId extreme_inception_module(Graph& g, NodeId x, const std::string& prefix, int64_t filters,
                                Act mid = Act::relu());

}  // namespace xcept::models

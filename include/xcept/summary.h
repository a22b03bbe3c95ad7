// What a model costs, by the papers' convention: parameters count every tensor a layer
// holds, batch-norm moving mean and variance included (Keras's "Total params"; trainable
// ones exclude them); MACs count every tap of every output pixel, padding included, per
// image. The same for the zoo, checkpoints, ONNX files (per node: the float initializers
// it reads, the MACs of what it computes) and networks built in code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xcept/api.h"
#include "xcept/network.h"
#include "xcept/types.h"

namespace xcept {

struct LayerSummary {
  std::string name;
  std::string type;
  Dims output;  // per image (NHWC for xcept's networks, ONNX's own dims for ONNX files)
  int64_t params = 0;
  int64_t params_trainable = 0;
  int64_t macs = 0;
  int64_t activation_bytes = 0;  // float32 output of this layer, per image
};

struct ModelSummary {
  std::string model;
  Dims input;                        // per image
  std::vector<LayerSummary> layers;  // in execution order
  int64_t params_total = 0;
  int64_t params_trainable = 0;
  int64_t macs = 0;
  int64_t activation_bytes = 0;  // sum over layers
};

// name_or_path: a zoo model (built with `zoo`), a checkpoint, or an .onnx file (its
// declared input dims with batch 1, or `onnx_input_dims`).
XCEPT_API ModelSummary summarize(const std::string& name_or_path, const ZooOptions& zoo = {},
                                 const std::vector<Dims>& onnx_input_dims = {});
XCEPT_API ModelSummary summarize(Network& network);

// One layer shape asked of every member of the convolution family.
struct ConvQuery {
  int64_t height = 19, width = 19, channels = 728;  // input
  int64_t filters = 728;                             // output channels M
  int64_t kernel = 3;                                // K (square)
  int64_t groups = 1;      // of the grouped row; 1: 2 when it divides C and M
  int64_t stride = 1;
  int64_t multiplier = 1;  // depthwise channel multiplier
  std::string padding = "same";  // same|valid
  bool bias = false;
};

struct ConvTypeCost {
  std::string type;     // "normal", "grouped (g=2)", "depthwise", "pointwise",
                        // "separable (dw-pw)", "separable (pw-dw)"
  std::string formula;  // of the parameters, e.g. "K^2 C M"
  Dims output;          // {height, width, channels}
  int64_t params = 0;
  int64_t macs = 0;     // per image
  double macs_ratio = 0;  // to the normal convolution's
};

// Throws xcept::Error naming the row whose layer cannot have that shape.
XCEPT_API std::vector<ConvTypeCost> conv_family_costs(const ConvQuery& query);

}  // namespace xcept

// The model zoo: every network xcept builds, by name, with the options a study varies.
//
//   xception        Chollet 2017, exactly as Keras Applications builds it (299x299x3)
//   mobilenet       MobileNet v1 (Howard 2017), Keras layout, width multiplier alpha (224)
//   conv-mobilenet  MobileNet with each depthwise separable block replaced by one full
//                   3x3 convolution (the paper's Table 4 comparison)
//   mini-xception   Xception's blocks sized for 28x28x1 / 32x32x3 images
//   mini-mobilenet  MobileNet's blocks sized for 28x28x1 / 32x32x3 images
//   mini-inception  Inception-style modules (v3, simplified or extreme) for small images
//   squeezenet-1.0, squeezenet-1.1   fire modules (Iandola 2016), as torchvision builds them
//   shufflenet      ShuffleNet v1 (Zhang 2017): grouped 1x1 convolutions + channel shuffle
//   shufflenet-v2   ShuffleNet v2 (Ma 2018): channel split + shuffle, as torchvision
//   mobilenet-v2    MobileNet v2 (Sandler 2018): inverted residuals, linear bottlenecks,
//                   as torchvision
//   mini-squeezenet, mini-shufflenet, mini-shufflenet-v2, mini-mobilenet-v2: the same
//                   blocks for 28x28x1 / 32x32x3 images
//
// Every model outputs logits (no softmax layer): the loss and the evaluator apply it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "autograd/graph.h"
#include "kernels/activation_f32.h"
#include "layers/separable_conv2d.h"

namespace xcept::models {

struct ModelOptions {
  int64_t classes = 0;         // 0: the model's default (1000, or 10 for the mini models)
  int64_t input_size = 0;      // 0: the model's default (299, 224, 28)
  int64_t input_channels = 0;  // 0: the model's default (3, or 1 for the mini models)
  double alpha = 1.0;          // width multiplier (all models)
  // Xception-family options:
  Act mid_activation = Act::none();  // between depthwise and pointwise (Fig. 10)
  SeparableOrder order = SeparableOrder::depthwise_pointwise;
  bool residual = true;                           // residual connections (Fig. 9)
  int middle_repeats = -1;                        // -1: default (8, or 2 for mini)
  float dropout = -1.f;                           // -1: the model's default
  std::string inception_module = "v3";            // mini-inception: v3|simplified|extreme
  // false: a full 3x3 convolution in place of every depthwise separable one (xception,
  // mini-xception, mobilenet, mini-mobilenet; conv-mobilenet is mobilenet built so).
  bool separable = true;
  // Groups of the convolutions a model groups; 0: the model's default. One option for the
  // two families that group (build_model rejects it elsewhere):
  //   shufflenet, mini-shufflenet: the grouped 1x1 convolutions (1, 2, 3, 4 or 8; 0: 3);
  //   mobilenet, conv-mobilenet, mini-mobilenet: the 3x3 convolution of every block, which
  //     then replaces the depthwise separable pair (1: the full convolution, as separable =
  //     false; 0: stays depthwise, i.e. as many groups as channels, then pointwise).
  int64_t groups = 0;
  // MobileNet family with groups >= 2: ShuffleNet's channel shuffle after every grouped
  // block (without it, a stack of grouped convolutions is `groups` separate narrow
  // networks up to the classifier). ShuffleNet itself always shuffles.
  bool channel_shuffle = false;
  // Output channels by layer name, replacing the architecture's (models/widths.h):
  // what structured pruning kept. Empty: the architecture as designed.
  std::map<std::string, int64_t> widths{};
  uint64_t seed = 0;                              // weight initialization
};

struct ModelInfo {
  std::string name;
  std::string description;
  std::string default_input;  // "299x299x3"
};

const std::vector<ModelInfo>& model_list();

// Throws xcept::Error naming an unknown model (and listing the known ones) or a bad option.
Graph build_model(const std::string& name, const ModelOptions& options = {});

Graph build_xception(const ModelOptions& options);
Graph build_mobilenet(const ModelOptions& options, bool full_convolution);
Graph build_mini_xception(const ModelOptions& options);
Graph build_mini_mobilenet(const ModelOptions& options);
Graph build_mini_inception(const ModelOptions& options);
Graph build_squeezenet(const ModelOptions& options, bool v11, bool mini);
Graph build_shufflenet(const ModelOptions& options, bool mini);
Graph build_shufflenet_v2(const ModelOptions& options, bool mini);
Graph build_mobilenet_v2(const ModelOptions& options, bool mini);

}  // namespace xcept::models

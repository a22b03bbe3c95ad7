// The model zoo: every network xcept builds, by name, with the options a study varies.
//
//   xception        Chollet 2017, exactly as Keras Applications builds it (299x299x3)
//   mobilenet       MobileNet v1 (Howard 2017), Keras layout, width multiplier alpha (224)
//   conv-mobilenet  MobileNet with each depthwise separable block replaced by one full
//                   3x3 convolution (the paper's Table 4 comparison)
//   mini-xception   Xception's blocks sized for 28x28x1 / 32x32x3 images
//   mini-mobilenet  MobileNet's blocks sized for 28x28x1 / 32x32x3 images
//   mini-inception  Inception-style modules (v3, simplified or extreme) for small images
//
// Every model outputs logits (no softmax layer): the loss and the evaluator apply it.
#pragma once

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
  Activation mid_activation = Activation::none;  // between depthwise and pointwise (Fig. 10)
  SeparableOrder order = SeparableOrder::depthwise_pointwise;
  bool residual = true;                           // residual connections (Fig. 9)
  int middle_repeats = -1;                        // -1: default (8, or 2 for mini)
  float dropout = -1.f;                           // -1: the model's default
  std::string inception_module = "v3";            // mini-inception: v3|simplified|extreme
  // false: a full 3x3 convolution in place of every depthwise separable one (xception,
  // mini-xception, mobilenet, mini-mobilenet; conv-mobilenet is mobilenet built so).
  bool separable = true;
  // MobileNet family (the groups study): 0 keeps the depthwise separable blocks; g >= 1
  // makes each block one 3x3 convolution of g groups (1: the full convolution, as
  // separable = false), followed by ShuffleNet's channel shuffle when channel_shuffle.
  int64_t groups = 0;
  bool channel_shuffle = false;
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

}  // namespace xcept::models

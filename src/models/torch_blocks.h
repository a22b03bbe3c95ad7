// What the models ported from torchvision 0.14 share (SqueezeNet, ShuffleNet v2,
// MobileNet v2, and ShuffleNet v1 built in the same style): PyTorch's symmetric padding,
// batch norm with PyTorch's epsilon and momentum, and torchvision's module paths as node
// names ("features.3.squeeze", "stage2.0.branch2.3"), so a torchvision state_dict maps
// onto the parameters name for name (tests/torchvision_support.h does that mapping).
#pragma once

#include <string>

#include "autograd/graph.h"
#include "kernels/activation_f32.h"
#include "kernels/conv_shape.h"
#include "models/models.h"

namespace xcept::models {

// The input a model builds for: the options' values, or the defaults (224x224x3 and 1000
// classes; 28x28x1 and 10 classes for a mini variant).
struct ZooInput {
  int64_t size, channels, classes;
};
ZooInput zoo_input(const ModelOptions& o, bool mini);

// nn.Conv2d(kernel, stride, padding = pad, groups) as xcept's convolution parameters.
ConvParams torch_conv(int64_t filters, int64_t kernel, int64_t stride, int64_t pad,
                      int64_t groups = 1);

// nn.BatchNorm2d: epsilon 1e-5, momentum 0.1 (0.9 in Keras's terms, which xcept uses).
NodeId torch_batch_norm(Graph& g, NodeId x, const std::string& name);

// torchvision's Conv2dNormActivation: "<prefix>.0" convolution without bias, padding
// (kernel-1)/2, "<prefix>.1" batch norm, "<prefix>.2" activation (none: left out).
NodeId conv_norm_act(Graph& g, NodeId x, const std::string& prefix, int64_t filters,
                     int64_t kernel, int64_t stride, Act act, int64_t groups = 1);

// Global average pooling ("<pool_name>"), dropout when rate > 0 ("<dropout_name>"), and
// the classifier "<dense_name>" (nn.Linear: weight and bias).
void pooled_classifier(Graph& g, NodeId x, const std::string& pool_name,
                       const std::string& dropout_name, const std::string& dense_name,
                       int64_t classes, float dropout, uint64_t seed);

}  // namespace xcept::models

// A network of layers: one of the zoo's models, or built layer by layer. Feature maps
// are NHWC per image ({height, width, channels}); convolution weights are initialized
// from the network's seed. Nodes are added in order (a node's inputs exist before it),
// which is the order they run in.
//
//   xcept::Network net("tiny", {28, 28, 1});
//   auto x = net.conv2d(net.input(), 16, 3, 2);  // 16 filters, 3x3, stride 2
//   x = net.relu(net.batch_norm(x));
//   x = net.separable_conv2d(x, 32, 3);
//   x = net.dense(net.global_avg_pool(x), 10);
//   net.set_output(x);
//
// Run it with Model::from_network, count it with summarize(net), save it as ONNX.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xcept/api.h"
#include "xcept/types.h"

namespace xcept {

// The options a study varies in the zoo's models (see zoo_models()); 0 or -1 is the
// model's default.
struct ZooOptions {
  int64_t classes = 0;         // 1000, or 10 for the mini models
  int64_t input_size = 0;      // 299, 224, or 28 for the mini models
  int64_t input_channels = 0;  // 3, or 1 for the mini models
  double alpha = 1.0;          // width multiplier
  std::string mid_activation = "none";  // between depthwise and pointwise: none|relu|elu
  std::string order = "dw-pw";          // separable order: dw-pw, or pw-dw (Xception's "extreme")
  bool residual = true;                 // residual connections (Xception, Figure 9)
  int middle_repeats = -1;              // Xception middle-flow blocks
  float dropout = -1.f;                 // before the classifier
  std::string inception_module = "v3";  // mini-inception: v3|simplified|extreme
  bool separable = true;  // false: full 3x3 convolutions in place of the depthwise separable
                          // ones (xception, mini-xception, MobileNet v1)
  // Groups of the convolutions a model groups (0: the model's default): ShuffleNet v1's
  // 1x1 convolutions (default 3); MobileNet v1's blocks become one 3x3 convolution of this
  // many groups each (1: full; default: depthwise separable). Other models refuse it.
  int64_t groups = 0;
  bool channel_shuffle = false;  // MobileNet v1 with groups >= 2: shuffle after each block
  uint64_t seed = 0;                    // weight initialization
};

struct ZooModel {
  std::string name, description, default_input;  // default_input: "299x299x3"
};
XCEPT_API std::vector<ZooModel> zoo_models();

// The rest of a convolution's geometry. padding: "same" (TensorFlow's rule) or "valid".
struct ConvOptions {
  int64_t dilation = 1;
  int64_t groups = 1;
  std::string padding = "same";
  bool bias = false;
  std::string name;  // empty: "<type>_<n>"
};

class XCEPT_API Network {
 public:
  using Node = int;

  // An empty network whose input images are `input_hwc` ({height, width, channels}).
  Network(std::string name, const Dims& input_hwc, uint64_t seed = 0);
  // A model of the zoo. Throws xcept::Error naming an unknown model or a bad option.
  static Network zoo(const std::string& name, const ZooOptions& options = {});

  ~Network();
  Network(Network&&) noexcept;
  Network& operator=(Network&&) noexcept;

  const std::string& name() const;
  Node input() const;
  // Per-image dims of a node's output.
  Dims dims(Node node) const;

  // Convolutions; weights HWIO, Glorot-uniform from the seed.
  Node conv2d(Node x, int64_t filters, int64_t kernel, int64_t stride = 1,
              const ConvOptions& options = {});
  Node depthwise_conv2d(Node x, int64_t kernel, int64_t stride = 1, int64_t multiplier = 1,
                        const ConvOptions& options = {});
  Node pointwise_conv2d(Node x, int64_t filters, const ConvOptions& options = {});
  // Depthwise then pointwise (order "dw-pw"), or pointwise then depthwise ("pw-dw"),
  // with an optional activation between them (none|relu|elu); the stride is the
  // depthwise step's.
  Node separable_conv2d(Node x, int64_t filters, int64_t kernel, int64_t stride = 1,
                        const std::string& order = "dw-pw",
                        const std::string& mid_activation = "none",
                        const ConvOptions& options = {});
  Node batch_norm(Node x, const std::string& name = "");
  // kind: relu|relu6|elu|none
  Node activation(Node x, const std::string& kind, const std::string& name = "");
  Node relu(Node x) { return activation(x, "relu"); }
  Node relu6(Node x) { return activation(x, "relu6"); }
  // padding: "valid" or "same"; stride 0 means the window size (Keras's default).
  Node max_pool(Node x, int64_t window, int64_t stride = 0, const std::string& padding = "valid");
  Node avg_pool(Node x, int64_t window, int64_t stride = 0, const std::string& padding = "valid");
  Node global_avg_pool(Node x);
  Node add(const std::vector<Node>& inputs);
  Node concat(const std::vector<Node>& inputs);  // along channels
  Node flatten(Node x);
  Node dropout(Node x, float rate);
  Node dense(Node x, int64_t units, bool bias = true);
  // The node whose value the network returns (default: the last one added).
  void set_output(Node node);

  // Writes the network as an ONNX file (NCHW input with a symbolic batch, opset 13),
  // to a temporary name renamed into place.
  void save_onnx(const std::string& path);

  struct Impl;  // the graph, for the library's own use
  Impl& impl() { return *impl_; }
  const Impl& impl() const { return *impl_; }

 private:
  explicit Network(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace xcept

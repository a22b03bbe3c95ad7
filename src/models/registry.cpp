#include "core/error.h"
#include "models/models.h"

namespace xcept::models {

const std::vector<ModelInfo>& model_list() {
  static const std::vector<ModelInfo> list = {
      {"xception", "Xception (Chollet 2017), Keras Applications layout", "299x299x3"},
      {"mobilenet", "MobileNet v1 (Howard 2017), Keras layout, width multiplier --alpha",
       "224x224x3"},
      {"conv-mobilenet", "MobileNet v1 with full 3x3 convolutions instead of separable ones",
       "224x224x3"},
      {"mini-xception", "Xception's flows for small images (Fashion-MNIST, CIFAR-10)", "28x28x1"},
      {"mini-mobilenet", "MobileNet's blocks for small images", "28x28x1"},
      {"mini-inception", "Inception v3 / simplified / extreme modules for small images",
       "28x28x1"},
  };
  return list;
}

Graph build_model(const std::string& name, const ModelOptions& o) {
  if (o.alpha <= 0) fail("{}: width multiplier alpha must be positive, got {}", name, o.alpha);
  if (o.classes < 0 || o.input_size < 0 || o.input_channels < 0)
    fail("{}: classes, input size and channels must be positive", name);
  if (o.dropout >= 1) fail("{}: dropout rate must be below 1, got {}", name, o.dropout);
  const bool mobilenet_family = name == "mobilenet" || name == "conv-mobilenet" ||
                                name == "mini-mobilenet";
  if (!mobilenet_family && (o.groups != 0 || o.channel_shuffle))
    fail("{}: grouped blocks and channel shuffle are options of the MobileNet family", name);
  if (o.groups < 0) fail("{}: groups must be >= 1 (0: depthwise separable), got {}", name, o.groups);
  if (o.channel_shuffle && o.groups < 2)
    fail("{}: channel shuffle needs grouped blocks (groups >= 2), got groups {}", name, o.groups);
  if (!o.separable && o.groups > 1)
    fail("{}: full convolutions (separable off) have 1 group, not {}", name, o.groups);
  if (!o.separable && name == "mini-inception")
    fail("{}: has no depthwise separable convolutions to replace", name);
  if (name == "xception") return build_xception(o);
  if (name == "mobilenet") return build_mobilenet(o, false);
  if (name == "conv-mobilenet") return build_mobilenet(o, true);
  if (name == "mini-xception") return build_mini_xception(o);
  if (name == "mini-mobilenet") return build_mini_mobilenet(o);
  if (name == "mini-inception") return build_mini_inception(o);
  std::string known;
  for (const auto& m : model_list()) known += (known.empty() ? "" : ", ") + m.name;
  fail("unknown model '{}' (known: {})", name, known);
}

}  // namespace xcept::models

#include <algorithm>

#include "core/error.h"
#include "models/models.h"
#include "models/widths.h"

namespace xcept::models {

const std::vector<ModelInfo>& model_list() {
  static const std::vector<ModelInfo> list = {
      {"xception", "Xception (Chollet 2017), Keras Applications layout", "299x299x3"},
      {"mobilenet", "MobileNet v1 (Howard 2017), Keras layout, width multiplier alpha",
       "224x224x3"},
      {"conv-mobilenet", "MobileNet v1 with full 3x3 convolutions instead of separable ones",
       "224x224x3"},
      {"mini-xception", "Xception's flows for small images (Fashion-MNIST, CIFAR-10)", "28x28x1"},
      {"mini-mobilenet", "MobileNet's blocks for small images", "28x28x1"},
      {"mini-inception", "Inception v3 / simplified / extreme modules for small images",
       "28x28x1"},
      {"squeezenet-1.0", "SqueezeNet 1.0 (Iandola 2016), fire modules, torchvision layout",
       "224x224x3"},
      {"squeezenet-1.1", "SqueezeNet 1.1: 2.4x less computation than 1.0", "224x224x3"},
      {"shufflenet", "ShuffleNet v1 (Zhang 2017), grouped 1x1 + channel shuffle, --groups G",
       "224x224x3"},
      {"shufflenet-v2", "ShuffleNet v2 (Ma 2018), torchvision layout, --alpha 0.5|1.0|1.5|2.0",
       "224x224x3"},
      {"mobilenet-v2", "MobileNet v2 (Sandler 2018), inverted residuals, torchvision layout",
       "224x224x3"},
      {"mini-squeezenet", "SqueezeNet 1.1's fire modules for small images", "28x28x1"},
      {"mini-shufflenet", "ShuffleNet v1's units for small images, --groups G", "28x28x1"},
      {"mini-shufflenet-v2", "ShuffleNet v2's units for small images", "28x28x1"},
      {"mini-mobilenet-v2", "MobileNet v2's inverted residuals for small images", "28x28x1"},
  };
  return list;
}

namespace {

[[noreturn]] void unknown_model(const std::string& name) {
  std::string known;
  for (const auto& m : model_list()) known += (known.empty() ? "" : ", ") + m.name;
  fail("unknown model '{}' (known: {})", name, known);
}

// The model as its paper and options define it, before any pruned widths.
Graph build_architecture(const std::string& name, const ModelOptions& o) {
  const auto& list = model_list();
  if (std::none_of(list.begin(), list.end(), [&](const ModelInfo& m) { return m.name == name; }))
    unknown_model(name);
  if (o.alpha <= 0) fail("{}: width multiplier alpha must be positive, got {}", name, o.alpha);
  if (o.classes < 0 || o.input_size < 0 || o.input_channels < 0)
    fail("{}: classes, input size and channels must be positive", name);
  if (o.dropout >= 1) fail("{}: dropout rate must be below 1, got {}", name, o.dropout);
  // groups, channel_shuffle and separable = false change what a model is built from, so
  // a model they do not apply to refuses them rather than ignoring them.
  const bool mobilenet_v1 = name == "mobilenet" || name == "conv-mobilenet" ||
                            name == "mini-mobilenet";
  const bool shufflenet_v1 = name == "shufflenet" || name == "mini-shufflenet";
  if (o.groups < 0) fail("{}: groups must be >= 0 (0: the model's default), got {}", name, o.groups);
  if (o.groups != 0 && !mobilenet_v1 && !shufflenet_v1)
    fail("{}: groups applies to MobileNet v1 (grouped 3x3 blocks) and ShuffleNet v1 (grouped "
         "1x1 convolutions) only, got groups {}", name, o.groups);
  if (o.channel_shuffle && !(mobilenet_v1 && o.groups >= 2))
    fail("{}: channel_shuffle applies to MobileNet v1 with groups >= 2 (ShuffleNet always "
         "shuffles), got groups {}", name, o.groups);
  if (!o.separable && !mobilenet_v1 && name != "xception" && name != "mini-xception")
    fail("{}: separable = false (full convolutions) applies to xception, mini-xception and "
         "MobileNet v1 only", name);
  if (!o.separable && o.groups > 1)
    fail("{}: full convolutions (separable = false) have 1 group, not {}", name, o.groups);
  if (name == "xception") return build_xception(o);
  if (name == "mobilenet") return build_mobilenet(o, false);
  if (name == "conv-mobilenet") return build_mobilenet(o, true);
  if (name == "mini-xception") return build_mini_xception(o);
  if (name == "mini-mobilenet") return build_mini_mobilenet(o);
  if (name == "mini-inception") return build_mini_inception(o);
  if (name == "squeezenet-1.0" || name == "squeezenet-1.1" || name == "mini-squeezenet")
    return build_squeezenet(o, name != "squeezenet-1.0", name == "mini-squeezenet");
  if (name == "shufflenet" || name == "mini-shufflenet")
    return build_shufflenet(o, name == "mini-shufflenet");
  if (name == "shufflenet-v2" || name == "mini-shufflenet-v2")
    return build_shufflenet_v2(o, name == "mini-shufflenet-v2");
  if (name == "mobilenet-v2" || name == "mini-mobilenet-v2")
    return build_mobilenet_v2(o, name == "mini-mobilenet-v2");
  unknown_model(name);
}

}  // namespace

Graph build_model(const std::string& name, const ModelOptions& o) {
  Graph g = build_architecture(name, o);
  if (o.widths.empty()) return g;
  return with_widths(g, o.widths, o.seed);
}

}  // namespace xcept::models

#include "cli/zoo_options.h"

namespace xcept::cli {

void add_zoo_options(CLI::App& cmd, ZooOptions& z, const std::string& prefix) {
  cmd.add_option("--input-size", z.input_size, prefix + "input height and width");
  cmd.add_option("--input-channels", z.input_channels, prefix + "input channels");
  cmd.add_option("--classes", z.classes, prefix + "number of classes");
  cmd.add_option("--alpha", z.alpha, prefix + "width multiplier")->capture_default_str();
  cmd.add_option("--mid-activation", z.mid_activation,
                 prefix + "activation between depthwise and pointwise: none|relu|elu")
      ->capture_default_str();
  cmd.add_option("--order", z.order,
                 prefix + "separable order: dw-pw (MobileNet) or pw-dw (Xception's extreme module)")
      ->capture_default_str();
  cmd.add_flag("--no-residual{false}", z.residual,
               prefix + "leave out residual connections (Xception Figure 9)");
  cmd.add_option("--middle-repeats", z.middle_repeats, prefix + "Xception middle-flow blocks");
  cmd.add_option("--dropout", z.dropout, prefix + "dropout before the classifier");
  cmd.add_option("--module", z.inception_module, prefix + "mini-inception module: v3|simplified|extreme");
  cmd.add_option("--groups", z.groups, prefix + "shufflenet: 1x1 convolution groups");
  cmd.add_option("--seed", z.seed, prefix + "weight initialization seed");
}

}  // namespace xcept::cli

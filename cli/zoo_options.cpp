#include "cli/zoo_options.h"

namespace xcept::cli {

void add_architecture_options(CLI::App& cmd, ZooOptions& z, const std::string& prefix) {
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
  cmd.add_flag("--full-conv{false}", z.separable,
               prefix + "full 3x3 convolutions in place of the depthwise separable ones "
                        "(xception, mini-xception, MobileNet v1)");
  cmd.add_option("--groups", z.groups,
                 prefix + "groups of the grouped convolutions: ShuffleNet v1's 1x1 ones (default "
                          "3); MobileNet v1's blocks as one 3x3 convolution of G groups (1: full; "
                          "default: depthwise separable)");
  cmd.add_flag("--channel-shuffle", z.channel_shuffle,
               prefix + "MobileNet v1 with --groups >= 2: shuffle channels after each block "
                        "(ShuffleNet)");
}

void add_zoo_options(CLI::App& cmd, ZooOptions& z, const std::string& prefix) {
  cmd.add_option("--input-size", z.input_size, prefix + "input height and width");
  cmd.add_option("--input-channels", z.input_channels, prefix + "input channels");
  cmd.add_option("--classes", z.classes, prefix + "number of classes");
  add_architecture_options(cmd, z, prefix);
  cmd.add_option("--seed", z.seed, prefix + "weight initialization seed");
}

}  // namespace xcept::cli

// Convolution layers of Xception (299x299) and MobileNet v1 (224x224), batch 1, as the
// benchmarks time them. Names follow the Keras layer names.
#pragma once

#include <vector>

#include "kernels/conv_shape.h"

namespace xcept::bench {

struct NamedConv {
  const char* name;
  ConvShape shape;
};

inline ConvShape conv_layer(int64_t h, int64_t c, int64_t m, int64_t k, int64_t stride,
                            int64_t groups, Padding pad) {
  return make_conv_shape("bench", 1, h, h, c, conv_params(m, k, stride, pad, groups));
}

inline std::vector<NamedConv> model_conv_layers() {
  const Padding same = Padding::same(), valid = Padding::valid();
  return {
      {"xception/block1_conv1", conv_layer(299, 3, 32, 3, 2, 1, valid)},
      {"xception/block1_conv2", conv_layer(149, 32, 64, 3, 1, 1, valid)},
      {"xception/block2_sepconv1_dw", conv_layer(147, 64, 64, 3, 1, 64, same)},
      {"xception/block2_sepconv1_pw", conv_layer(147, 64, 128, 1, 1, 1, same)},
      {"xception/block3_sepconv2_dw", conv_layer(74, 256, 256, 3, 1, 256, same)},
      {"xception/block4_sepconv1_pw", conv_layer(37, 256, 728, 1, 1, 1, same)},
      {"xception/block5_sepconv1_dw", conv_layer(19, 728, 728, 3, 1, 728, same)},
      {"xception/block5_sepconv1_pw", conv_layer(19, 728, 728, 1, 1, 1, same)},
      {"xception/block13_sepconv2_pw", conv_layer(19, 728, 1024, 1, 1, 1, same)},
      {"xception/block14_sepconv2_pw", conv_layer(10, 1536, 2048, 1, 1, 1, same)},
      {"mobilenet/conv1", conv_layer(224, 3, 32, 3, 2, 1, same)},
      {"mobilenet/conv_dw_1", conv_layer(112, 32, 32, 3, 1, 32, same)},
      {"mobilenet/conv_pw_1", conv_layer(112, 32, 64, 1, 1, 1, same)},
      {"mobilenet/conv_dw_2", conv_layer(112, 64, 64, 3, 2, 64, same)},
      {"mobilenet/conv_pw_7", conv_layer(14, 512, 512, 1, 1, 1, same)},
      {"mobilenet/conv_dw_13", conv_layer(7, 1024, 1024, 3, 1, 1024, same)},
      {"mobilenet/conv_pw_13", conv_layer(7, 1024, 1024, 1, 1, 1, same)},
      {"conv-mobilenet/conv_2", conv_layer(112, 32, 64, 3, 1, 1, same)},
      // The twin's other 3x3 stride-1 convolutions (Winograd's domain), by block id.
      {"conv-mobilenet/conv_3", conv_layer(56, 128, 128, 3, 1, 1, same)},
      {"conv-mobilenet/conv_5", conv_layer(28, 256, 256, 3, 1, 1, same)},
      {"conv-mobilenet/conv_7", conv_layer(14, 512, 512, 3, 1, 1, same)},
      {"conv-mobilenet/conv_13", conv_layer(7, 1024, 1024, 3, 1, 1, same)},
  };
}

}  // namespace xcept::bench

// The shape of one 2-D convolution, resolved: input, output, window, padding, groups.
// Every convolution kernel (normal, grouped, depthwise, pointwise) takes a ConvShape.
//
// Layouts: input x is NHWC [n][h][w][c]; output y is NHWC [n][ho][wo][m];
// weights are HWIO [kh][kw][c/groups][m]; bias is [m]. Output channel o belongs to
// group o / (m/groups) and reads input channels group*(c/groups) .. +c/groups.
// Depthwise with channel multiplier d is groups = c, m = c*d: output c*d+j reads input c.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace xcept {

enum class PadMode { valid, same, explicit_pads };

struct Padding {
  PadMode mode = PadMode::valid;
  int64_t top = 0, left = 0, bottom = 0, right = 0;  // used when mode == explicit_pads

  static Padding valid() { return {}; }
  // TensorFlow's rule: output = ceil(input / stride); an odd total pads one more at the end.
  static Padding same() { return {PadMode::same, 0, 0, 0, 0}; }
  static Padding explicit_(int64_t top, int64_t left, int64_t bottom, int64_t right) {
    return {PadMode::explicit_pads, top, left, bottom, right};
  }
};

// What a user asks of a convolution layer.
struct ConvParams {
  int64_t out_channels = 0;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  Padding padding;
  int64_t groups = 1;
};

// The usual square window: `filters` outputs, kernel x kernel, the same stride both ways,
// no dilation.
inline ConvParams conv_params(int64_t filters, int64_t kernel, int64_t stride, Padding padding,
                              int64_t groups = 1) {
  ConvParams p;
  p.out_channels = filters;
  p.kernel_h = p.kernel_w = kernel;
  p.stride_h = p.stride_w = stride;
  p.padding = padding;
  p.groups = groups;
  return p;
}

struct ConvShape {
  int64_t n = 0, h = 0, w = 0, c = 0;  // input
  int64_t m = 0;                       // output channels
  int64_t kh = 1, kw = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t groups = 1;
  int64_t ho = 0, wo = 0;  // output

  int64_t cg() const { return c / groups; }  // input channels per group
  int64_t mg() const { return m / groups; }  // output channels per group
  int64_t input_numel() const { return n * h * w * c; }
  int64_t output_numel() const { return n * ho * wo * m; }
  int64_t weight_numel() const { return kh * kw * cg() * m; }
  bool is_depthwise() const { return groups == c && cg() == 1; }
  bool is_pointwise() const {
    return kh == 1 && kw == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 &&
           pad_left == 0 && pad_bottom == 0 && pad_right == 0;
  }
  std::string to_string() const;  // for messages and test names
};

// Validates and resolves. Throws xcept::Error naming `layer` and the numbers when the
// shape does not fit: non-positive sizes, groups not dividing c and m, a window larger
// than the padded input, or sizes whose product overflows.
ConvShape make_conv_shape(std::string_view layer, int64_t n, int64_t h, int64_t w, int64_t c,
                          const ConvParams& p);

// Output length of one spatial axis, and the pads before/after it, for a padding mode.
struct AxisPads {
  int64_t out = 0, before = 0, after = 0;
};
AxisPads resolve_axis(std::string_view layer, const char* axis, int64_t in, int64_t k,
                      int64_t stride, int64_t dilation, PadMode mode, int64_t pad_before,
                      int64_t pad_after);

}  // namespace xcept

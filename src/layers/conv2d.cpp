#include "layers/conv2d.h"

#include <cmath>
#include <utility>

#include "core/clock.h"
#include "core/error.h"
#include "core/rng.h"
#include "kernels/kernels.h"

namespace xcept {

void glorot_uniform_fill(Tensor& t, int64_t fan_in, int64_t fan_out, uint32_t seed) {
  if (fan_in <= 0 || fan_out <= 0)
    fail("glorot_uniform_fill: fans must be positive, got fan_in={} fan_out={}", fan_in, fan_out);
  const double limit = std::sqrt(6.0 / double(fan_in + fan_out));
  SplitMix64 rng(seed);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = float(rng.uniform(-limit, limit));
}

// The smallest input extent one axis of `config` can accept, so the constructor can
// validate the whole ConvParams through make_conv_shape. Out-of-range values fall back
// to 1 and make_conv_shape then reports them.
static int64_t min_extent(int64_t k, int64_t dilation) {
  constexpr int64_t kMax = int64_t{1} << 30;
  if (k <= 0 || dilation <= 0 || k > kMax || dilation > kMax) return 1;
  return (k - 1) * dilation + 1;
}

Conv2d::Conv2d(std::string name_, int64_t in_channels_, const ConvParams& config_,
               bool has_bias_, uint32_t seed)
    : name(std::move(name_)), config(config_), in_channels(in_channels_), has_bias(has_bias_) {
  ConvShape s = make_conv_shape(name, 1, min_extent(config.kernel_h, config.dilation_h),
                                min_extent(config.kernel_w, config.dilation_w), in_channels,
                                config);
  weight = Tensor({s.kh, s.kw, s.cg(), s.m});
  grad_weight = Tensor(weight.dims());
  glorot_uniform_fill(weight, s.kh * s.kw * s.cg(), s.kh * s.kw * s.mg(), seed);
  if (has_bias) {
    bias = Tensor({s.m});
    grad_bias = Tensor({s.m});
  }
}

ConvShape Conv2d::check_input(const Tensor& x) const {
  if (x.rank() != 4)
    fail("{}: expected a 4-D NHWC input, got {} ({}-D)", name, dims_to_string(x.dims()),
         x.rank());
  if (x.dim(3) != in_channels)
    fail("{}: input {} has {} channels, the layer expects {}", name, dims_to_string(x.dims()),
         x.dim(3), in_channels);
  ConvShape s = make_conv_shape(name, x.dim(0), x.dim(1), x.dim(2), x.dim(3), config);
  // The members are public: catch a weight that no longer matches the config before a
  // kernel reads past it.
  const Dims wdims{s.kh, s.kw, s.cg(), s.m};
  if (weight.dims() != wdims || grad_weight.dims() != wdims)
    fail("{}: weight {} / grad {} do not match the config's {}", name,
         dims_to_string(weight.dims()), dims_to_string(grad_weight.dims()),
         dims_to_string(wdims));
  if (has_bias && (bias.dims() != Dims{s.m} || grad_bias.dims() != Dims{s.m}))
    fail("{}: bias {} / grad {} do not match {} output channels", name,
         dims_to_string(bias.dims()), dims_to_string(grad_bias.dims()), s.m);
  return s;
}


void Conv2d::forward(const Tensor& x, Tensor& y, OutputStats* stats) {
  const ConvShape s = check_input(x);
  ensure_dims(y, {s.n, s.ho, s.wo, s.m});
  ConvEpilogue ep(has_bias ? bias.data() : nullptr);
  ep.stats = stats;
  conv2d_fwd(s, x.data(), weight.data(), ep, y.data());
}

void Conv2d::backward(const Tensor& x, const Tensor& dy, Tensor* dx, BackwardSplit* split) {
  const ConvShape s = check_input(x);
  const Dims ydims{s.n, s.ho, s.wo, s.m};
  if (dy.dims() != ydims)
    fail("{}: gradient dy is {}, but forward produced {}", name, dims_to_string(dy.dims()),
         dims_to_string(ydims));
  const auto t0 = split ? Clock::now() : Clock::time_point{};
  if (dx) {
    ensure_dims(*dx, x.dims());
    // Both passes in one sweep where a kernel does that (pointwise layers with pixels
    // enough); a profiled backward, which times the passes apart, runs them in turn.
    const Conv2dBwdKernel& both = pick_conv2d_bwd(s);
    if (!split && both.fn != conv2d_bwd_nhwc_f32) {
      both.fn(s, x.data(), dy.data(), weight.data(), dx->data(), grad_weight.data(),
              has_bias ? grad_bias.data() : nullptr, /*accumulate=*/true);
      return;
    }
    conv2d_bwd_data(s, dy.data(), weight.data(), dx->data());
  }
  const auto t1 = split ? Clock::now() : Clock::time_point{};
  conv2d_bwd_filter(s, x.data(), dy.data(), grad_weight.data(),
                    has_bias ? grad_bias.data() : nullptr, /*accumulate=*/true);
  if (split) {
    split->data_ms += ms_between(t0, t1);
    split->weights_ms += ms_since(t1);
  }
}

Tensor Conv2d::forward(const Tensor& x) { return forward(Tensor(x)); }

Tensor Conv2d::forward(Tensor&& x) {
  shape_ = check_input(x);
  input_ = std::move(x);
  cached_ = true;
  Tensor y;
  forward(input_, y);
  return y;
}

Tensor Conv2d::backward(const Tensor& dy) {
  if (!cached_) fail("{}: backward called before forward", name);
  Tensor dx;
  backward(input_, dy, &dx);
  return dx;
}

void Conv2d::zero_grad() {
  grad_weight.fill(0.f);
  grad_bias.fill(0.f);
}

ParamList Conv2d::params() {
  ParamList p{{name + ".weight", &weight, &grad_weight}};
  if (has_bias) p.push_back({name + ".bias", &bias, &grad_bias});
  return p;
}

Conv2d normal_conv2d(std::string name, int64_t in_channels, int64_t out_channels,
                     const ConvWindow& window, bool has_bias, uint32_t seed) {
  return Conv2d(std::move(name), in_channels, window.with(out_channels, 1), has_bias, seed);
}

Conv2d grouped_conv2d(std::string name, int64_t in_channels, int64_t out_channels,
                      int64_t groups, const ConvWindow& window, bool has_bias, uint32_t seed) {
  return Conv2d(std::move(name), in_channels, window.with(out_channels, groups), has_bias, seed);
}

Conv2d depthwise_conv2d(std::string name, int64_t channels, int64_t multiplier,
                        const ConvWindow& window, bool has_bias, uint32_t seed) {
  if (multiplier <= 0 || channels <= 0 || multiplier > (int64_t{1} << 30) ||
      channels > (int64_t{1} << 30))
    fail("{}: depthwise channels and multiplier must be in 1..2^30, got {} and {}", name,
         channels, multiplier);
  return Conv2d(std::move(name), channels, window.with(channels * multiplier, channels),
                has_bias, seed);
}

Conv2d pointwise_conv2d(std::string name, int64_t in_channels, int64_t out_channels,
                        bool has_bias, uint32_t seed) {
  return Conv2d(std::move(name), in_channels, ConvWindow{}.with(out_channels, 1), has_bias,
                seed);
}

}  // namespace xcept

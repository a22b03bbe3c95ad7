#include "layers/pooling.h"

#include <algorithm>
#include <vector>

#include "kernels/kernels.h"
#include "layers/layer_checks.h"

namespace xcept {

namespace {

// One axis of a pooling window: TensorFlow's valid/same, or PyTorch's symmetric padding
// with floor or ceil rounding (torch.nn.functional's pooling_output_shape).
AxisPads pool_axis(const std::string& layer, const char* axis, int64_t in, int64_t k,
                   int64_t stride, PadMode mode, int64_t pad, bool ceil_mode) {
  if (mode != PadMode::explicit_pads) {
    if (pad != 0 || ceil_mode)
      fail("{}: pooling pads and ceil_mode go with explicit padding only", layer);
    return resolve_axis(layer, axis, in, k, stride, 1, mode, 0, 0);
  }
  if (pad < 0 || 2 * pad > k)
    fail("{}: {} padding {} must be between 0 and half the window {}", layer, axis, pad, k);
  AxisPads r = resolve_axis(layer, axis, in, k, stride, 1, mode, pad, pad);  // floor rounding
  if (ceil_mode) {
    const int64_t span = in + 2 * pad - k;
    r.out = (span + stride - 1) / stride + 1;
    // The last window must start inside the input or the leading padding.
    if ((r.out - 1) * stride >= in + pad) --r.out;
    r.after = std::max<int64_t>(0, (r.out - 1) * stride + k - in - pad);
  }
  return r;
}

}  // namespace

Pool2D::Pool2D(std::string name, const PoolWindow& window)
    : Layer(std::move(name)), window_(window) {}

Dims Pool2D::build(const std::vector<Dims>& inputs, Rng&) {
  expect_inputs(*this, inputs, 1);
  expect_feature_map(*this, inputs[0]);
  const PoolWindow& p = window_;
  if (p.kernel_h <= 0 || p.kernel_w <= 0 || p.stride_h <= 0 || p.stride_w <= 0)
    fail("{}: pool size {}x{} and stride {}x{} must be positive", name(), p.kernel_h, p.kernel_w,
         p.stride_h, p.stride_w);
  h_ = inputs[0][0], w_ = inputs[0][1], c_ = inputs[0][2];
  // resolve_axis fails, naming the layer, when a window is larger than the padded input.
  pads_h_ = pool_axis(name(), "height", h_, p.kernel_h, p.stride_h, p.padding, p.pad_h,
                      p.ceil_mode);
  pads_w_ = pool_axis(name(), "width", w_, p.kernel_w, p.stride_w, p.padding, p.pad_w,
                      p.ceil_mode);
  ho_ = pads_h_.out, wo_ = pads_w_.out;
  return {ho_, wo_, c_};
}

ConvShape Pool2D::window_shape(int64_t batch) const {
  ConvParams p;
  p.out_channels = c_;
  p.groups = c_;
  p.kernel_h = window_.kernel_h;
  p.kernel_w = window_.kernel_w;
  p.stride_h = window_.stride_h;
  p.stride_w = window_.stride_w;
  p.padding = Padding::explicit_(pads_h_.before, pads_w_.before, pads_h_.after, pads_w_.after);
  return make_conv_shape(name(), batch, h_, w_, c_, p);
}

ConvShape Pool2D::checked_shape(const Tensor& x, const Tensor& y) const {
  if (x.rank() != 4 || x.dim(1) != h_ || x.dim(2) != w_ || x.dim(3) != c_ || y.rank() != 4 ||
      y.dim(0) != x.dim(0) || y.dim(1) != ho_ || y.dim(2) != wo_ || y.dim(3) != c_)
    fail("{}: input {} / output {} do not match the built {}x{}x{} -> {}x{}x{}", name(),
         dims_to_string(x.dims()), dims_to_string(y.dims()), h_, w_, c_, ho_, wo_, c_);
  return window_shape(x.dim(0));
}

// Both pooling layers run the kernel table's rows, the same the inference runtime runs.
void MaxPool2D::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  pool2d_fwd(checked_shape(*in.at(0), out), PoolMode::max, in[0]->data(), out.data());
}

void MaxPool2D::backward(const std::vector<const Tensor*>& in, const Tensor& out,
                         const Tensor& dout, const std::vector<Tensor*>& din) {
  if (Tensor* dx = din.at(0))
    pool2d_bwd(checked_shape(*in.at(0), out), PoolMode::max, in[0]->data(), out.data(),
               dout.data(), dx->data());
}

void AvgPool2D::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  pool2d_fwd(checked_shape(*in.at(0), out), PoolMode::avg_exclude_pad, in[0]->data(),
             out.data());
}

void AvgPool2D::backward(const std::vector<const Tensor*>& in, const Tensor& out,
                         const Tensor& dout, const std::vector<Tensor*>& din) {
  if (Tensor* dx = din.at(0))
    pool2d_bwd(checked_shape(*in.at(0), out), PoolMode::avg_exclude_pad, in[0]->data(),
               out.data(), dout.data(), dx->data());
}

Dims GlobalAvgPool2D::build(const std::vector<Dims>& inputs, Rng&) {
  expect_inputs(*this, inputs, 1);
  expect_feature_map(*this, inputs[0]);
  h_ = inputs[0][0], w_ = inputs[0][1], c_ = inputs[0][2];
  return {c_};
}

// The whole-map pooling window of kernels/kernels.h: the rows the runtime's
// GlobalAvgPoolOp runs too.
void GlobalAvgPool2D::forward(const std::vector<const Tensor*>& in, Tensor& out, bool) {
  const Tensor& x = *in.at(0);
  if (x.rank() != 4 || x.dim(1) != h_ || x.dim(2) != w_ || x.dim(3) != c_ ||
      out.numel() != x.dim(0) * c_)
    fail("{}: input {} does not match the built {}x{}x{}", name(), dims_to_string(x.dims()), h_, w_,
         c_);
  pool2d_fwd(global_pool_window(x.dim(0), h_, w_, c_), PoolMode::avg_exclude_pad, x.data(),
             out.data());
}

void GlobalAvgPool2D::backward(const std::vector<const Tensor*>& in, const Tensor& out,
                               const Tensor& dout, const std::vector<Tensor*>& din) {
  if (Tensor* dx = din.at(0))
    pool2d_bwd(global_pool_window(in.at(0)->dim(0), h_, w_, c_), PoolMode::avg_exclude_pad,
               in[0]->data(), out.data(), dout.data(), dx->data());
}

}  // namespace xcept

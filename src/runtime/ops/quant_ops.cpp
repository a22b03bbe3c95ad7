// The int8 program's ops: convolution and Dense on the int8 kernels of the table, and
// the small uint8 ops around them (kernels/quant_elementwise.h).
#include "runtime/ops/quant_ops.h"

#include <cstring>

#include "core/error.h"
#include "kernels/quant_elementwise.h"

namespace xcept {

namespace {

void expect_one_input(const std::string& step, const char* type, std::span<const Dims> in) {
  if (in.size() != 1) fail("{}: {} takes 1 input, got {}", step, type, in.size());
}

// Float weights [rows][m] and bias [m] (or empty) as int8 per output channel, int32
// bias, and the multipliers x_scale * w_scale[o] / y_scale (y_scale 1: a float output).
void quantize_layer(const Tensor& w, int64_t rows, int64_t m, const Tensor& bias,
                    const QuantParams& x, float y_scale, std::vector<int8_t>& qw,
                    std::vector<float>& w_scale, std::vector<int32_t>& qb,
                    std::vector<float>& mult) {
  w_scale.resize(static_cast<size_t>(m));
  qw.resize(size_t(rows * m));
  quantize_weights_per_channel(w.data(), rows, m, qw.data(), w_scale.data());
  qb.assign(size_t(m), 0);
  mult.resize(size_t(m));
  for (int64_t o = 0; o < m; ++o) {
    if (!bias.empty()) qb[size_t(o)] = quantize_bias(bias[o], x.scale, w_scale[size_t(o)]);
    mult[size_t(o)] = x.scale * w_scale[size_t(o)] / y_scale;
  }
}

QuantEpilogue epilogue(const std::vector<int32_t>& bias, const std::vector<float>& mult,
                       const QuantParams& x, const QuantOutput& out) {
  QuantEpilogue ep;
  ep.bias = bias.data();
  ep.multiplier = mult.data();
  ep.x_zero_point = x.zero_point;
  ep.y_zero_point = out.q.zero_point;
  ep.y_min = out.y_min;
  ep.y_max = out.y_max;
  return ep;
}

}  // namespace

// ---- Quantize, Dequantize

Dims QuantizeOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_one_input(step, type(), in);
  return in[0];
}

void QuantizeOp::run(std::span<const ConstView> in, const MutView& out) const {
  quantize_f32_u8(numel_of(*in[0].dims), in[0].data, q_, u8_data(out));
}

Dims DequantizeOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_one_input(step, type(), in);
  return in[0];
}

void DequantizeOp::run(std::span<const ConstView> in, const MutView& out) const {
  dequantize_u8_f32(numel_of(*in[0].dims), u8_data(in[0]), q_, out.data);
}

// ---- QConv2d

QConv2dOp::QConv2dOp(const ConvShape& shape, const Tensor& weight_hwio, const Tensor& bias,
                     QuantParams x_q, QuantOutput out)
    : shape_(shape), x_q_(x_q), out_(out) {
  if (weight_hwio.numel() != shape_.weight_numel())
    fail("QConv2d: weight {} does not fit {}", dims_to_string(weight_hwio.dims()),
         shape_.to_string());
  if (shape_.kh * shape_.kw * shape_.cg() > kQuantMaxK)
    fail("QConv2d: {} sums {} products per output, over the int8 kernels' {}",
         shape_.to_string(), shape_.kh * shape_.kw * shape_.cg(), kQuantMaxK);
  quantize_layer(weight_hwio, shape_.weight_numel() / shape_.m, shape_.m, bias, x_q_,
                 out_.q.scale, w_, w_scale_, bias_, mult_);
}

Dims QConv2dOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_one_input(step, type(), in);
  const Dims x{shape_.n, shape_.h, shape_.w, shape_.c};
  if (in[0] != x)
    fail("{}: QConv2d input is {}, the convolution was built for {}", step,
         dims_to_string(in[0]), dims_to_string(x));
  return {shape_.n, shape_.ho, shape_.wo, shape_.m};
}

void QConv2dOp::prepare(Precision) {
  prepacked_ = std::make_unique<const QConv2dPrepacked>(shape_, w_.data());
}

void QConv2dOp::run(std::span<const ConstView> in, const MutView& out) const {
  const QuantEpilogue ep = epilogue(bias_, mult_, x_q_, out_);
  if (prepacked_ && !reference_) return prepacked_->run(u8_data(in[0]), ep, u8_data(out));
  const QConv2dFwdKernel& row =
      reference_ ? reference_row(qconv2d_fwd_kernels()) : pick_qconv2d_fwd(shape_);
  row.fn(shape_, u8_data(in[0]), w_.data(), ep, u8_data(out));
}

int64_t QConv2dOp::macs() const {
  return shape_.n * shape_.ho * shape_.wo * shape_.m * shape_.kh * shape_.kw * shape_.cg();
}

int64_t QConv2dOp::param_bytes() const {
  return int64_t(w_.size()) + int64_t(bias_.size() * sizeof(int32_t)) +
         int64_t(mult_.size() * sizeof(float)) + (prepacked_ ? prepacked_->packed_bytes() : 0);
}

// ---- QDense

QDenseOp::QDenseOp(const Tensor& weight_km, const Tensor& bias, QuantParams x_q,
                   QuantOutput out, bool f32_out)
    : x_q_(x_q), out_(out), f32_out_(f32_out) {
  if (weight_km.rank() != 2) fail("QDense: weight must be [k][m], got {}", dims_to_string(weight_km.dims()));
  k_ = weight_km.dim(0), m_ = weight_km.dim(1);
  if (k_ > kQuantMaxK) fail("QDense: {} inputs, over the int8 kernels' {}", k_, kQuantMaxK);
  quantize_layer(weight_km, k_, m_, bias, x_q_, f32_out ? 1.f : out_.q.scale, w_, w_scale_, bias_, mult_);
}

Dims QDenseOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_one_input(step, type(), in);
  if (in[0].empty() || in[0].back() != k_)
    fail("{}: QDense input {} must end in {} features", step, dims_to_string(in[0]), k_);
  Dims out = in[0];
  out.back() = m_;
  return out;
}

void QDenseOp::bind(std::span<const Dims> in) { macs_ = numel_of(in[0]) / k_ * k_ * m_; }

void QDenseOp::prepare(Precision) {
  packed_ = std::make_unique<const QGemmPackedB>(qgemm_pack_b(k_, m_, w_.data(), m_));
}

void QDenseOp::run(std::span<const ConstView> in, const MutView& out) const {
  const int64_t rows = numel_of(*in[0].dims) / k_;
  const QuantEpilogue ep = epilogue(bias_, mult_, x_q_, out_);
  const QGemmOut c{f32_out_ ? nullptr : u8_data(out), f32_out_ ? out.data : nullptr};
  if (packed_ && !reference_) return qgemm_prepacked(rows, u8_data(in[0]), k_, *packed_, ep, c, m_);
  QGemmShape s;
  s.m = rows, s.n = m_, s.k = k_, s.lda = k_, s.ldb = m_, s.ldc = m_;
  (reference_ ? reference_row(qgemm_kernels()) : pick_qgemm(s)).fn(s, u8_data(in[0]), w_.data(), ep, c);
}

int64_t QDenseOp::param_bytes() const {
  return int64_t(w_.size()) + int64_t(bias_.size() * sizeof(int32_t)) +
         int64_t(mult_.size() * sizeof(float)) + (packed_ ? packed_->bytes : 0);
}

// ---- QAdd, QActivation

Dims QAddOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  if (in.size() != 2) fail("{}: QAdd takes 2 inputs, got {}", step, in.size());
  if (in[0] != in[1])
    fail("{}: QAdd operands {} and {} differ (no broadcasting in int8)", step,
         dims_to_string(in[0]), dims_to_string(in[1]));
  return in[0];
}

void QAddOp::run(std::span<const ConstView> in, const MutView& out) const {
  add_u8(numel_of(*in[0].dims), u8_data(in[0]), a_, u8_data(in[1]), b_, out_.q, out_.y_min,
         out_.y_max, u8_data(out));
}

Dims QActivationOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_one_input(step, type(), in);
  return in[0];
}

void QActivationOp::run(std::span<const ConstView> in, const MutView& out) const {
  requantize_u8(numel_of(*in[0].dims), u8_data(in[0]), in_, out_.q, out_.y_min, out_.y_max,
                u8_data(out));
}

// ---- pooling, reshape

Dims QMaxPoolOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_one_input(step, type(), in);
  const Dims x{window_.n, window_.h, window_.w, window_.c};
  if (in[0] != x)
    fail("{}: QMaxPool2d input is {}, the window was built for {}", step, dims_to_string(in[0]),
         dims_to_string(x));
  return {window_.n, window_.ho, window_.wo, window_.c};
}

void QMaxPoolOp::run(std::span<const ConstView> in, const MutView& out) const {
  maxpool_u8(window_, u8_data(in[0]), u8_data(out));
}

Dims QGlobalAvgPoolOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_one_input(step, type(), in);
  if (in[0].size() != 4)
    fail("{}: QGlobalAvgPool expects a 4-D NHWC input, got {}", step, dims_to_string(in[0]));
  if (keep_dims_) return {in[0][0], 1, 1, in[0][3]};
  return {in[0][0], in[0][3]};
}

void QGlobalAvgPoolOp::run(std::span<const ConstView> in, const MutView& out) const {
  const Dims& d = *in[0].dims;
  global_avgpool_u8(d[0], d[1] * d[2], d[3], u8_data(in[0]), in_, out_, u8_data(out));
}

Dims QReshapeOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  expect_one_input(step, type(), in);
  if (numel_of(in[0]) != numel_of(dims_))
    fail("{}: cannot reshape {} into {}", step, dims_to_string(in[0]), dims_to_string(dims_));
  return dims_;
}

void QReshapeOp::run(std::span<const ConstView> in, const MutView& out) const {
  if (u8_data(in[0]) != u8_data(out))
    std::memcpy(u8_data(out), u8_data(in[0]), size_t(numel_of(dims_)));
}

}  // namespace xcept

// DenseOp: one GEMM over every row of the input, bias and activation fused into it.
#include <algorithm>

#include "core/error.h"
#include "core/threadpool.h"
#include "kernels/kernels.h"
#include "runtime/ops/core_ops.h"

namespace xcept {

DenseOp::DenseOp(Tensor weight_km, Tensor bias, Act act)
    : weight_(std::move(weight_km)), bias_(std::move(bias)), act_(act) {
  if (weight_.rank() != 2)
    fail("Dense: weight must be [k][m], got {}", dims_to_string(weight_.dims()));
  if (!bias_.empty() && bias_.numel() != weight_.dim(1))
    fail("Dense: bias {} does not match weight {}", dims_to_string(bias_.dims()),
         dims_to_string(weight_.dims()));
}

Dims DenseOp::output_dims(const std::string& step, std::span<const Dims> in) const {
  if (in.size() != 1) fail("{}: Dense takes 1 input, got {}", step, in.size());
  if (in[0].empty() || in[0].back() != weight_.dim(0))
    fail("{}: Dense input {} must end in {} features (weight {})", step, dims_to_string(in[0]),
         weight_.dim(0), dims_to_string(weight_.dims()));
  Dims out = in[0];
  out.back() = weight_.dim(1);
  return out;
}

void DenseOp::bind(std::span<const Dims> in) {
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < in[0].size(); ++i) rows *= in[0][i];
  macs_ = rows * weight_.dim(0) * weight_.dim(1);
}

namespace {

// The GEMM of a Dense layer over `rows` input rows (B = the [k][m] weights).
GemmShape dense_gemm(int64_t rows, int64_t k, int64_t m) {
  GemmShape g;
  g.m = rows;
  g.n = m;
  g.k = k;
  g.lda = k;
  g.ldb = m;
  g.ldc = m;
  return g;
}

}  // namespace

void DenseOp::prepare(Precision precision) {
  bf16_weight_.reset();
  packed_weight_ = Tensor();
  if (precision == Precision::bf16 && bf16_gemm_available()) {
    bf16_weight_ = std::make_unique<const PackedBf16Matrix>(
        pack_bf16_b(weight_.dim(0), weight_.dim(1), weight_.data(), weight_.dim(1)));
    return;
  }
  // The packed layout depends on k, n and the micro-kernel only, not on the rows.
  const int64_t k = weight_.dim(0), m = weight_.dim(1);
  const GemmShape g = dense_gemm(1, k, m);
  // One input row (bind saw the program's dims): a table row that streams B as
  // it is beats the 10-row micro-tiles, packed or not; nothing to pack then.
  if (macs_ == k * m && pick_gemm(g).supports == gemm_single_row) return;
  packed_weight_ = Tensor({gemm_packed_b_floats(g)});
  gemm_pack_b(g, weight_.data(), packed_weight_.data());
}

void DenseOp::run(std::span<const ConstView> in, const MutView& out) const {
  const Dims& d = *in[0].dims;
  const int64_t k = weight_.dim(0), m = weight_.dim(1);
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < d.size(); ++i) rows *= d[i];
  // Bias and activation fused into the GEMM's epilogue (kernels/epilogue.h).
  const GemmEpilogue e{bias_.empty() ? nullptr : bias_.data(), nullptr, 0, act_.kind,
                       act_.a, act_.b};
  const GemmEpilogue* ep = bias_.empty() && act_.is_none() ? nullptr : &e;
  if (bf16_weight_) {
    gemm_bf16(rows, in[0].data, k, *bf16_weight_, out.data, m, ep);
    return;
  }
  GemmShape g = dense_gemm(rows, k, m);
  g.epilogue = ep;
  // Prepacked panels give the same bits as packing per call (kernels/kernels.h).
  g.b_prepacked = !packed_weight_.empty();
  gemm(g, in[0].data, g.b_prepacked ? packed_weight_.data() : weight_.data(), out.data);
}

}  // namespace xcept

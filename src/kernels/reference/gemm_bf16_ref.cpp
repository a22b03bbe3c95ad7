// The bf16 GEMM's oracle: the same rounding of A and B to bf16 as the fast row, then
// products and sums in double.
#include "kernels/kernels.h"
#include "kernels/reference/epilogue_ref.h"

namespace xcept {

void gemm_bf16_ref(const Bf16GemmShape& s, const float* a, int64_t lda, const PackedBf16Matrix& b,
                   float* c, int64_t ldc, const GemmEpilogue* e) {
  constexpr int64_t kNr = kBf16PanelCols;
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < b.n; ++j) {
      const uint16_t* panel = b.panel(j / kNr);
      double acc = 0;
      for (int64_t p = 0; p < b.k; ++p)
        acc += double(bf16_to_f32(f32_to_bf16(a[i * lda + p]))) *
               double(bf16_to_f32(panel[(p / 2 * kNr + j % kNr) * 2 + p % 2]));
      if (e) {
        if (e->bias) acc += e->bias[j];
        if (e->addend) acc += e->addend[i * e->ld_addend + j];
        acc = ref::activation(e->act, e->a, e->b, acc);
      }
      c[i * ldc + j] = float(acc);
    }
}

}  // namespace xcept

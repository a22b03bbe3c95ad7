// Triple-loop GEMM with double accumulation: the oracle for the blocked GEMMs.
#include "core/error.h"
#include "kernels/kernels.h"
#include "kernels/reference/epilogue_ref.h"

namespace xcept {

void gemm_f32_ref(const GemmShape& s, const float* a, const float* b, float* c) {
  if (s.b_prepacked) fail("gemm_f32_ref: a prepacked B belongs to a blocked micro-kernel");
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < s.k; ++p) {
        float av = s.trans_a ? a[p * s.lda + i] : a[i * s.lda + p];
        float bv = s.trans_b ? b[j * s.ldb + p] : b[p * s.ldb + j];
        acc += double(av) * double(bv);
      }
      float& cv = c[i * s.ldc + j];
      if (s.beta != 0.f) acc += double(s.beta) * cv;
      if (const GemmEpilogue* e = s.epilogue) {
        if (e->bias) acc += e->bias[j];
        if (e->addend) acc += e->addend[i * e->ld_addend + j];
        acc = ref::activation(e->act, e->a, e->b, acc);
      }
      cv = float(acc);
    }
}

}  // namespace xcept

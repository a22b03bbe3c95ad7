// Training batch norm, NHWC f32, avx512: kernels/batch_norm_nhwc_f32_impl.h compiled with
// this file's flags.
#include "kernels/batch_norm_nhwc_f32_impl.h"

XCEPT_BATCH_NORM_ROWS(avx512)

// The int8 elementwise loops (kernels/quant_elementwise_impl.h) compiled for avx512.
#include "kernels/quant_elementwise_impl.h"

namespace xcept {

extern constinit const QuantElementwiseKernels quant_elementwise_avx512 =
    qe_kernels("avx512", Isa::avx512);

}  // namespace xcept

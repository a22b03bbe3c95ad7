// The int8 elementwise loops (kernels/quant_elementwise_impl.h) compiled for avx2.
#include "kernels/quant_elementwise_impl.h"

namespace xcept {

extern constinit const QuantElementwiseKernels quant_elementwise_avx2 =
    qe_kernels("avx2", Isa::avx2);

}  // namespace xcept

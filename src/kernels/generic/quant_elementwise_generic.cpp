// The int8 elementwise loops (kernels/quant_elementwise_impl.h) compiled for generic.
#include "kernels/quant_elementwise_impl.h"

namespace xcept {

extern constinit const QuantElementwiseKernels quant_elementwise_generic =
    qe_kernels("generic", Isa::generic);

}  // namespace xcept

// Winograd F(4x4, 3x3) transforms built with AVX-512: the loops of
// kernels/winograd_f4x4_impl.h, 16 channels a zmm register.
#include "kernels/generic/conv2d_winograd_f4x4.h"
#include "kernels/winograd_f4x4_impl.h"

namespace xcept {

extern const WinogradTransforms winograd_f4x4_avx512_transforms{
    wino_input_range, wino_output_range, wino_weights_range};

}  // namespace xcept

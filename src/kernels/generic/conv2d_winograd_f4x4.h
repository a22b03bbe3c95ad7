// Winograd F(4x4, 3x3) convolution (3x3, stride 1, dilation 1, groups 1, NHWC): the
// driver in conv2d_winograd_f4x4_nhwc_f32.cpp, the transforms per ISA like the GEMM's
// micro-kernels (kernels/winograd_f4x4_impl.h compiled by each ISA's file).
//
// Weights: U = G g G^T, [36][c][m] floats (4x the HWIO weights). The table row computes
// U on every call (training changes weights every step); inference computes it once
// and packed for the GEMMs with winograd_f4x4_pack_weights, then calls
// conv2d_fwd_winograd_f4x4_packed (kernels/conv2d_prepacked.h does both).
#pragma once

#include <cstdint>

#include "kernels/conv_shape.h"
#include "kernels/epilogue.h"

namespace xcept {

struct WinogradTransforms {
  // V[xi][t - t0][ci] for tiles [t0, t1), slab stride ldv.
  void (*input)(const ConvShape& s, const float* x, int64_t t0, int64_t t1, float* v,
                int64_t ldv);
  // y pixels of tiles [t0, t1) from M[xi][t - t0][o] (slab stride ldm), epilogue applied.
  void (*output)(const ConvShape& s, const float* mm, int64_t ldm, int64_t t0, int64_t t1,
                 const ConvEpilogue& ep, float* y);
  // U rows of input channels [c0, c1).
  void (*weights)(const ConvShape& s, const float* w, int64_t c0, int64_t c1, float* u);
};
extern const WinogradTransforms winograd_f4x4_generic_transforms;
extern const WinogradTransforms winograd_f4x4_avx512_transforms;

// 3x3, stride 1, dilation 1, groups 1: the shapes the algorithm computes.
bool winograd_f4x4_applies(const ConvShape& s);
// Where Winograd with weights transformed and packed once beats im2col (Zen 5, 2
// threads, batch 1): 16+ channels each side and 16+ output tiles. 14x14x512 -> 512 (16
// tiles) ran in 1.9 ms against im2col's 3.2; 7x7x1024 -> 1024 (4 tiles) in 5.6 against
// 5.2: the 36 GEMMs of 4 rows each only stream U (4x the weights) from memory.
bool winograd_f4x4_pays_prepacked(const ConvShape& s);

// The forward shape whose result is the backward data of s (3x3, stride 1, pads of at
// most 2): dy in, dx out, channels swapped, pads mirrored. Throws if s has larger pads.
ConvShape winograd_f4x4_bwd_data_shape(const ConvShape& s);

// Floats of the transformed weights of a shape: 36 * c * m.
int64_t winograd_f4x4_weight_floats(const ConvShape& s);
// U from HWIO weights (threaded).
void winograd_f4x4_transform_weights(const ConvShape& s, const float* w_hwio, float* u);
// The convolution from pre-transformed weights U.
void conv2d_fwd_winograd_f4x4_pretransformed(const ConvShape& s, const float* x,
                                             const float* u, const ConvEpilogue& ep, float* y);

// Inference form: each slab of U packed once for gemm() (gemm_pack_b), so the 36 GEMMs
// pack nothing per call. `packed` must be 64-byte aligned.
int64_t winograd_f4x4_packed_weight_floats(const ConvShape& s);
void winograd_f4x4_pack_weights(const ConvShape& s, const float* w_hwio, float* packed);
void conv2d_fwd_winograd_f4x4_packed(const ConvShape& s, const float* x, const float* packed,
                                     const ConvEpilogue& ep, float* y);

}  // namespace xcept

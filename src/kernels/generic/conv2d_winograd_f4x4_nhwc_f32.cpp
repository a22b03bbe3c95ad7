// Winograd F(4x4, 3x3) forward convolution, NHWC f32 (see conv2d_winograd_f4x4.h).
//
// Output tiles of 4x4 pixels read 6x6 input patches. For a block of tiles:
//   1. input transform: V[xi][tile][c] (36 slabs of tiles x c),
//   2. 36 independent GEMMs M[xi] = V[xi] * U[xi] ([tiles x c] * [c x m]) via gemm(),
//   3. output transform with the epilogue fused: y = act(A^T M A + bias + addend).
// 36 multiplies per 16 outputs instead of 144: 2.25x fewer than direct, paid for by the
// transforms (memory-bound) and by 4x larger weights, so it pays at 16+ channels.
// Blocks are sized so V and M stay within kBlockFloats (16 MB); one block runs its stages threaded
// (tiles for the transforms, xi for the GEMMs), several run one block per thread. Each
// output value depends on its tile alone (GEMM rows are independent), so the blocking
// never changes results.
#include <algorithm>
#include <cstddef>
#include <new>

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/threadpool.h"
#include "kernels/generic/conv2d_winograd_f4x4.h"
#include "kernels/kernels.h"
#include "kernels/winograd_f4x4_impl.h"
#include "core/scratch.h"

namespace xcept {
namespace {

// Scratch floats of V and M per block: 16 MB, so one block covers most layers at batch 1.
constexpr int64_t kBlockFloats = int64_t(4) << 20;
constexpr int64_t kMinBlockTiles = 16;

thread_local ScratchBuffer t_block_scratch, t_weight_scratch;

const WinogradTransforms& transforms() {
  return isa_available(Isa::avx512) ? winograd_f4x4_avx512_transforms
                                    : winograd_f4x4_generic_transforms;
}

int64_t tile_count(const ConvShape& s) { return s.n * ((s.ho + 3) / 4) * ((s.wo + 3) / 4); }

GemmShape slab_gemm(const ConvShape& s, int64_t tiles, bool packed) {
  GemmShape gs;
  gs.m = tiles, gs.n = s.m, gs.k = s.c;
  gs.lda = s.c, gs.ldb = s.m, gs.ldc = s.m;
  gs.b_prepacked = packed;
  return gs;
}

// Floats between consecutive xi slabs of U: c*m plain, or a packed slab.
int64_t u_slab(const ConvShape& s, bool packed) {
  return packed ? gemm_packed_b_floats(slab_gemm(s, 1, true)) : s.c * s.m;
}

// M[xi] = V[xi] * U[xi] for xi in [x0, x1), tiles rows each.
void block_gemms(const ConvShape& s, const float* v, const float* u, bool packed, float* mm,
                 int64_t tiles, int64_t x0, int64_t x1) {
  const GemmShape gs = slab_gemm(s, tiles, packed);
  const int64_t slab = u_slab(s, packed);
  for (int64_t xi = x0; xi < x1; ++xi)
    gemm(gs, v + xi * tiles * s.c, u + xi * slab, mm + xi * tiles * s.m);
}

// The three stages over all tiles, from U plain ([36][c][m]) or packed per slab.
void winograd_run(const ConvShape& s, const float* x, const float* u, bool packed,
                  const ConvEpilogue& ep, float* y) {
  if (!winograd_f4x4_applies(s)) fail("winograd f4x4: cannot compute {}", s.to_string());
  const WinogradTransforms& tr = transforms();
  const int64_t tiles = tile_count(s), per_tile = 36 * (s.c + s.m);
  const int64_t max_block = std::max(kMinBlockTiles, kBlockFloats / per_tile);
  int64_t blocks = (tiles + max_block - 1) / max_block;
  const int64_t threads = num_threads();
  if (blocks > 1) blocks = (blocks + threads - 1) / threads * threads;
  const int64_t block = (tiles + blocks - 1) / blocks;

  // One block per thread: every stage inline on that thread, its own scratch.
  auto run_block = [&](int64_t t0) {
    const int64_t t1 = std::min(tiles, t0 + block), nt = t1 - t0;
    float* v = t_block_scratch.get(36 * block * (s.c + s.m));
    float* mm = v + 36 * nt * s.c;
    tr.input(s, x, t0, t1, v, nt * s.c);
    block_gemms(s, v, u, packed, mm, nt, 0, 36);
    tr.output(s, mm, nt * s.m, t0, t1, ep, y);
  };
  if (blocks > 1) {
    parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) run_block(b * block);
    });
    return;
  }
  // A single block: each stage split over the threads.
  float* v = t_block_scratch.get(36 * tiles * (s.c + s.m));
  float* mm = v + 36 * tiles * s.c;
  const int64_t tile_grain = std::max<int64_t>(1, 8192 / (s.c + s.m));
  parallel_for(tiles, tile_grain, [&](int64_t t0, int64_t t1) {
    tr.input(s, x, t0, t1, v + t0 * s.c, tiles * s.c);
  });
  parallel_for(36, 1, [&](int64_t x0, int64_t x1) {
    block_gemms(s, v, u, packed, mm, tiles, x0, x1);
  });
  parallel_for(tiles, tile_grain, [&](int64_t t0, int64_t t1) {
    tr.output(s, mm + t0 * s.m, tiles * s.m, t0, t1, ep, y);
  });
}

}  // namespace

extern const WinogradTransforms winograd_f4x4_generic_transforms{
    wino_input_range, wino_output_range, wino_weights_range};

bool winograd_f4x4_applies(const ConvShape& s) {
  return s.kh == 3 && s.kw == 3 && s.stride_h == 1 && s.stride_w == 1 && s.dilation_h == 1 &&
         s.dilation_w == 1 && s.groups == 1;
}

bool winograd_f4x4_pays_prepacked(const ConvShape& s) {
  return winograd_f4x4_applies(s) && s.c >= 16 && s.m >= 16 && tile_count(s) >= 16;
}

int64_t winograd_f4x4_weight_floats(const ConvShape& s) { return 36 * s.c * s.m; }

void winograd_f4x4_transform_weights(const ConvShape& s, const float* w_hwio, float* u) {
  const WinogradTransforms& tr = transforms();
  parallel_for(s.c, std::max<int64_t>(1, 4096 / s.m), [&](int64_t c0, int64_t c1) {
    tr.weights(s, w_hwio, c0, c1, u);
  });
}

void conv2d_fwd_winograd_f4x4_pretransformed(const ConvShape& s, const float* x,
                                             const float* u, const ConvEpilogue& ep, float* y) {
  winograd_run(s, x, u, false, ep, y);
}

int64_t winograd_f4x4_packed_weight_floats(const ConvShape& s) { return 36 * u_slab(s, true); }

void winograd_f4x4_pack_weights(const ConvShape& s, const float* w_hwio, float* packed) {
  float* u = t_weight_scratch.get(winograd_f4x4_weight_floats(s));
  winograd_f4x4_transform_weights(s, w_hwio, u);
  const GemmShape gs = slab_gemm(s, 1, false);
  const int64_t slab = u_slab(s, true);
  for (int64_t xi = 0; xi < 36; ++xi) gemm_pack_b(gs, u + xi * s.c * s.m, packed + xi * slab);
}

void conv2d_fwd_winograd_f4x4_packed(const ConvShape& s, const float* x, const float* packed,
                                     const ConvEpilogue& ep, float* y) {
  winograd_run(s, x, packed, true, ep, y);
}

void conv2d_fwd_3x3_winograd_f4x4_nhwc_f32(const ConvShape& s, const float* x, const float* w,
                                           const ConvEpilogue& ep, float* y) {
  float* u = t_weight_scratch.get(winograd_f4x4_weight_floats(s));
  winograd_f4x4_transform_weights(s, w, u);
  conv2d_fwd_winograd_f4x4_pretransformed(s, x, u, ep, y);
}

ConvShape winograd_f4x4_bwd_data_shape(const ConvShape& s) {
  // The gradient of a stride-1 correlation is the correlation of dy with the window
  // rotated by 180 degrees, channels swapped and each pad p mirrored to k - 1 - p.
  ConvParams p;
  p.out_channels = s.c;
  p.kernel_h = s.kh, p.kernel_w = s.kw;
  p.padding = Padding::explicit_(s.kh - 1 - s.pad_top, s.kw - 1 - s.pad_left,
                                 s.kh - 1 - s.pad_bottom, s.kw - 1 - s.pad_right);
  return make_conv_shape("winograd backward data", s.n, s.ho, s.wo, s.m, p);
}

void conv2d_bwd_data_3x3_winograd_f4x4_nhwc_f32(const ConvShape& s, const float* dy,
                                                const float* w, float* dx) {
  const ConvShape t = winograd_f4x4_bwd_data_shape(s);
  // Rotated, transposed weights: wt[ky][kx][o][i] = w[2 - ky][2 - kx][i][o].
  thread_local ScratchBuffer t_rotated;
  float* wt = t_rotated.get(s.weight_numel());
  for (int64_t tap = 0; tap < 9; ++tap) {
    const float* src = w + (8 - tap) * s.c * s.m;
    float* dst = wt + tap * s.c * s.m;
    for (int64_t i = 0; i < s.c; ++i)
      for (int64_t o = 0; o < s.m; ++o) dst[o * s.c + i] = src[i * s.m + o];
  }
  conv2d_fwd_3x3_winograd_f4x4_nhwc_f32(t, dy, wt, ConvEpilogue{}, dx);
}

}  // namespace xcept

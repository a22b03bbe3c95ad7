// Shared pieces of the depthwise convolution kernels (NHWC, f32): the geometry of one
// pass, per-thread scratch, the row cache and the channel-block loop. The passes are in
// dwconv2d_fwd_nhwc_f32_impl.h and dwconv2d_bwd_nhwc_f32_impl.h, written once over a
// vector type V and instantiated by the generic, avx2 and avx512 kernel files.
//
// V supplies: W (floats per vector), R (vector), M (remainder mask), mask(n),
// ld<MASK>(p, m), st<MASK>(p, v, m), zero(), fma(a, b, c) = a*b + c, add(a, b),
// pin(v) (keep a loaded vector in a register), and the pixels per interior step of the
// kxk loop (P) and of the 3x3 loop (P3).
//
// Everything here has internal linkage (unnamed namespace): each ISA file gets its own
// copy compiled with its own flags, so the linker can never hand an AVX-512 body of a
// shared inline function to a caller on a CPU without AVX-512. For the same reason the
// scratch buffers avoid std::vector and std::fill, whose out-of-line bodies are shared.
//
// Source rows are staged (copied to a row cache, each row once per task) when the channel
// multiplier d > 1, to expand x[c] to channels c*d..c*d+d-1 so that every loop is the
// multiplier-1 one; and when the pixel stride is a multiple of 2 KiB (channels % 512 == 0),
// where the pixels of a tile all map to one or two L1 sets: a 19x19x1024 layer ran three
// times slower than 19x19x1008 before. Staged rows have a pixel stride of ch + 16 floats.
#pragma once

#include <algorithm>
#include <cstdint>
#include <new>
#include <type_traits>

#include "core/scratch.h"
#include "core/threadpool.h"
#include "kernels/conv_shape.h"

namespace xcept {
namespace {

template <typename T>
class DwScratch {
 public:
  explicit DwScratch(int64_t n) : p_(n > 0 ? new T[static_cast<size_t>(n)] : nullptr) {}
  ~DwScratch() { delete[] p_; }
  DwScratch(const DwScratch&) = delete;
  DwScratch& operator=(const DwScratch&) = delete;
  T* get() const { return p_; }
  T& operator[](int64_t i) const { return p_[i]; }

 private:
  T* p_;
};

// Per-thread float buffers that outlive a call, one per slot (core/scratch.h). Slot 0:
// row cache; 1: dy staging and gather sums (both per worker); 2: buffers the calling
// thread owns for the whole call (partials, flipped weights).
inline float* dw_thread_buffer(int slot, int64_t n) {
  thread_local ScratchBuffer slots[3];
  return slots[slot].get(n);
}

// One depthwise pass seen as "source plane -> destination plane" with ch channels per
// destination pixel. The forward pass reads x; backward data at stride 1 is the same
// computation on dy with flipped weights and mirrored pads (pads may then be negative).
struct DwGeom {
  int64_t n = 0;
  int64_t in_h = 0, in_w = 0;    // source plane
  int64_t out_h = 0, out_w = 0;  // destination plane
  int64_t c_src = 0;             // channels per source pixel in memory
  int64_t ch = 0;                // channels per destination pixel (= c_src * d)
  int64_t d = 1;                 // channel multiplier
  int64_t xs = 0;                // pixel stride of the source rows the loops read
  int64_t ys = 0;                // pixel stride of dy rows read by backward filter
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0;
};

inline DwGeom dw_geom_forward(const ConvShape& s) {
  DwGeom g;
  g.n = s.n, g.in_h = s.h, g.in_w = s.w, g.out_h = s.ho, g.out_w = s.wo;
  g.c_src = s.c, g.ch = s.m, g.d = s.m / s.c, g.xs = s.c, g.ys = s.m;
  g.kh = s.kh, g.kw = s.kw, g.sh = s.stride_h, g.sw = s.stride_w;
  g.dh = s.dilation_h, g.dw = s.dilation_w, g.pt = s.pad_top, g.pl = s.pad_left;
  return g;
}

// Outputs o in [0, out) with 0 <= o*stride + off < in: the range [lo, hi), empty if lo == hi.
struct DwRange {
  int64_t lo, hi;
};
inline DwRange dw_axis_range(int64_t off, int64_t in, int64_t stride, int64_t out) {
  int64_t lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  int64_t last = in - 1 - off;  // largest o*stride allowed
  int64_t hi = last < 0 ? 0 : last / stride + 1;
  lo = std::min(lo, out);
  hi = std::max(std::min(hi, out), lo);
  return {lo, hi};
}

// Source rows of the current task, staged or not (see the top of the file).
class DwRowCache {
 public:
  explicit DwRowCache(const DwGeom& g)
      : g_(g),
        slots_(g.d > 1 || g.c_src % 512 == 0 ? (g.kh - 1) * g.dh + 1 : 0),
        xs_(slots_ ? g.ch + 16 : g.c_src),
        buf_(dw_thread_buffer(0, slots_ * g.in_w * xs_)),
        tag_(slots_),
        rows_(g.kh) {
    for (int64_t i = 0; i < slots_; ++i) tag_[i] = -1;
  }
  int64_t pixel_stride() const { return xs_; }

  // Points rows()[ky] at the source row under tap ky of destination row (b, oy), or null
  // when it falls in the padding. Rows at distinct taps have distinct iy % slots_.
  const float* const* rows(const float* src, int64_t b, int64_t oy) {
    for (int64_t ky = 0; ky < g_.kh; ++ky) {
      const int64_t iy = oy * g_.sh - g_.pt + ky * g_.dh;
      if (iy < 0 || iy >= g_.in_h) {
        rows_[ky] = nullptr;
        continue;
      }
      const float* p = src + (b * g_.in_h + iy) * g_.in_w * g_.c_src;
      if (slots_) {
        const int64_t slot = iy % slots_, key = b * g_.in_h + iy;
        float* dst = buf_ + slot * g_.in_w * xs_;
        if (tag_[slot] != key) stage(p, dst), tag_[slot] = key;
        p = dst;
      }
      rows_[ky] = p;
    }
    return rows_.get();
  }

 private:
  // Compile-time D lets the compiler vectorize the interleaving (D = 0: runtime d).
  template <int D>
  static void expand(const float* s, float* o, int64_t c, int64_t d) {
    if constexpr (D > 0) d = D;
    for (int64_t i = 0; i < c; ++i)
      for (int64_t j = 0; j < d; ++j) o[i * d + j] = s[i];
  }

  void stage(const float* src, float* dst) const {
    const int64_t c = g_.c_src, d = g_.d;
    for (int64_t ix = 0; ix < g_.in_w; ++ix) {
      const float* s = src + ix * c;
      float* o = dst + ix * xs_;
      switch (d) {
        case 1: expand<1>(s, o, c, 1); break;
        case 2: expand<2>(s, o, c, 2); break;
        case 3: expand<3>(s, o, c, 3); break;
        case 4: expand<4>(s, o, c, 4); break;
        default: expand<0>(s, o, c, d); break;
      }
    }
  }

  const DwGeom& g_;
  int64_t slots_, xs_;
  float* buf_;
  DwScratch<int64_t> tag_;
  DwScratch<const float*> rows_;
};

// Enough multiply-adds per parallel task to pay for waking a thread.
inline int64_t dw_grain(int64_t row_macs) {
  return std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(row_macs, 1));
}

// Channel blocks of W floats, the last one masked.
template <typename V>
struct DwBlocks {
  using R = typename V::R;
  using M = typename V::M;
  static constexpr int64_t W = V::W;

  // Calls f(std::bool_constant<MASK>, c0, mask) for each channel block of [0, ch).
  template <typename F>
  static inline void for_blocks(int64_t ch, F&& f) {
    int64_t c0 = 0;
    for (; c0 + W <= ch; c0 += W) f(std::false_type{}, c0, V::mask(W));
    if (c0 < ch) f(std::true_type{}, c0, V::mask(ch - c0));
  }

  // Covers [x, end) with tile(x, integral_constant<int, Q>) for Q = P, then P/2, ..., 1:
  // a row shorter than P (a 7-pixel row with P = 8) still gets multi-pixel tiles.
  template <int P, typename F>
  static inline void for_tiles(int64_t x, int64_t end, F&& tile) {
    for (; x + P <= end; x += P) tile(x, std::integral_constant<int, P>{});
    if constexpr (P > 1) for_tiles<P / 2>(x, end, tile);
  }

  static R ld_bias(const float* bias, int64_t c0, M mk, auto masked) {
    return bias ? V::template ld<decltype(masked)::value>(bias + c0, mk) : V::zero();
  }
};

}  // namespace
}  // namespace xcept

// Training batch norm over the channels of [rows][c] float data (NHWC flattened), written
// once in plain loops over channels that each ISA file compiles with its own flags (the
// compiler vectorizes them; internal linkage, so every file keeps its own copy).
//
// Passes over memory are what these layers cost (a 28x28x128 batch of 128 is 51 MB, out
// of every cache), so each pass does all it can:
//   stats:    one read: sums of (x - k) and (x - k)^2 about a per-channel shift k (the
//             first row), so the variance needs no second pass and does not cancel;
//   forward:  one read, one write: y = act(x * scale + shift);
//   backward: two reads of (x, dy) and one write: the activation's gradient (relu,
//             relu6) is taken on the fly from x * scale + shift, never stored, and y is
//             never read.
// Sums run in double (a diverging run's 1e20 activations must give an infinite or NaN
// loss, not overflow a float square into a finite output) over fixed chunks of
// kBnRowChunk rows, added chunk by chunk in chunk order: the result does not depend on
// the thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/threadpool.h"
#include "kernels/kernels.h"
#include "core/scratch.h"

namespace xcept {
namespace {

constexpr int64_t kBnRowChunk = 256;

struct BatchNormNhwc {
  // Per-chunk partials (k sums of c each), reduced in chunk order into `out` (k*c
  // doubles). body(r0, r1, acc) adds rows [r0, r1) into acc (k*c doubles, zeroed).
  template <typename Body>
  static void reduce(int64_t rows, int64_t c, int k, double* out, Body body) {
    const int64_t chunks = std::max<int64_t>(1, (rows + kBnRowChunk - 1) / kBnRowChunk);
    const int64_t width = k * c;
    thread_local ScratchArray<double> t_partials;
    double* part = t_partials.get(chunks * width);
    parallel_for(chunks, 4, [&](int64_t b, int64_t e) {
      for (int64_t ch = b; ch < e; ++ch) {
        double* acc = part + ch * width;
        std::fill(acc, acc + width, 0.0);
        body(ch * kBnRowChunk, std::min(rows, (ch + 1) * kBnRowChunk), acc);
      }
    });
    std::fill(out, out + width, 0.0);
    for (int64_t ch = 0; ch < chunks; ++ch)
      for (int64_t i = 0; i < width; ++i) out[i] += part[ch * width + i];
  }

  static void add_shifted(int64_t c, const float* __restrict x, const float* __restrict k,
                          double* __restrict s1, double* __restrict s2) {
    for (int64_t j = 0; j < c; ++j) {
      const double d = double(x[j]) - double(k[j]);
      s1[j] += d;
      s2[j] += d * d;
    }
  }

  static void stats(const BatchNormShape& s, const float* x, float* mean, float* var) {
    const int64_t c = s.c;
    std::vector<double> sums(size_t(2 * c));
    reduce(s.rows, c, 2, sums.data(), [&](int64_t r0, int64_t r1, double* acc) {
      for (int64_t r = r0; r < r1; ++r) add_shifted(c, x + r * c, x, acc, acc + c);
    });
    const double n = double(std::max<int64_t>(s.rows, 1));
    for (int64_t j = 0; j < c; ++j) {
      const double m = sums[size_t(j)] / n;  // mean of x - k
      mean[j] = float(double(x[j]) + m);
      const double v = sums[size_t(c + j)] / n - m * m;
      var[j] = float(v < 0.0 ? 0.0 : v);  // rounding can dip below 0; NaN stays NaN
    }
  }

  // y may be x (the runtime's ChannelAffineOp runs in place): x and y are not restrict,
  // and each element is read before it is written.
  static void affine_row(int64_t c, const float* x, const float* __restrict scale,
                         const float* __restrict shift, Act act, float* y) {
    // Compared so that NaN stays NaN (a diverged run must show a NaN loss), as in
    // kernels/activation_f32.cpp.
    if (act.kind == ActKind::relu) {
      for (int64_t j = 0; j < c; ++j) {
        const float v = x[j] * scale[j] + shift[j];
        y[j] = v < 0.f ? 0.f : v;
      }
    } else if (act.is_relu6()) {
      for (int64_t j = 0; j < c; ++j) {
        const float v = x[j] * scale[j] + shift[j];
        const float r = v < 0.f ? 0.f : v;
        y[j] = r > 6.f ? 6.f : r;
      }
    } else {
      for (int64_t j = 0; j < c; ++j) y[j] = x[j] * scale[j] + shift[j];
    }
  }

  static void forward(const BatchNormShape& s, const float* x, const float* scale,
                      const float* shift, Act act, float* y) {
    const int64_t c = s.c;
    parallel_for(s.rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(c, 1)),
                 [&](int64_t r0, int64_t r1) {
                   for (int64_t r = r0; r < r1; ++r)
                     affine_row(c, x + r * c, scale, shift, act, y + r * c);
                 });
  }

  // The activation's gradient, g = dy where the activation passes, for one row, from
  // the pre-activation v = x * scale + shift written as affine_row writes it (same file,
  // same flags: the same bits, so the same mask as the forward's). One loop per
  // activation with both arms loaded first: a switch or a load under the condition kept
  // GCC from vectorizing (and the mask is data, unpredictable).
  static void act_grad_row(int64_t c, const float* __restrict x, const float* __restrict scale,
                           const float* __restrict shift, const float* __restrict dy,
                           Act act, float* __restrict g) {
    if (act == Act::relu6()) {
      for (int64_t j = 0; j < c; ++j) {
        const float v = x[j] * scale[j] + shift[j], d = dy[j];
        const float lo = v > 0.f ? d : 0.f;
        g[j] = v < 6.f ? lo : 0.f;
      }
    } else {  // relu
      for (int64_t j = 0; j < c; ++j) {
        const float v = x[j] * scale[j] + shift[j], d = dy[j];
        g[j] = v > 0.f ? d : 0.f;
      }
    }
  }

  static void add_grad_sums(int64_t c, const float* __restrict x, const float* __restrict g,
                            const float* __restrict mean, const float* __restrict inv_std,
                            double* __restrict sg, double* __restrict sgx) {
    for (int64_t j = 0; j < c; ++j) {
      const float xhat = (x[j] - mean[j]) * inv_std[j];
      sg[j] += double(g[j]);
      sgx[j] += double(g[j] * xhat);
    }
  }

  // g and dx may be the same row (the backward runs in place over dy).
  static void dx_row(int64_t c, const float* __restrict x, const float* g,
                     const float* __restrict mean, const float* __restrict inv_std,
                     const float* __restrict k, const float* __restrict mg,
                     const float* __restrict mgx, float* dx) {
    for (int64_t j = 0; j < c; ++j) {
      const float xhat = (x[j] - mean[j]) * inv_std[j];
      dx[j] = k[j] * (g[j] - mg[j] - xhat * mgx[j]);
    }
  }

  static void backward(const BatchNormShape& s, const BatchNormBackward& b) {
    const int64_t c = s.c;
    // g rows are staged in a per-thread row buffer when an activation is fused.
    const bool fused = b.act != Act::none();
    std::vector<double> sums(size_t(2 * c));
    reduce(s.rows, c, 2, sums.data(), [&](int64_t r0, int64_t r1, double* acc) {
      thread_local ScratchBuffer t_row;
      float* g = fused ? t_row.get(c) : nullptr;
      for (int64_t r = r0; r < r1; ++r) {
        const float* gr = b.dy + r * c;
        if (fused) act_grad_row(c, b.x + r * c, b.scale, b.shift, gr, b.act, g), gr = g;
        add_grad_sums(c, b.x + r * c, gr, b.mean, b.inv_std, acc, acc + c);
      }
    });
    for (int64_t j = 0; j < c; ++j) {
      b.grad_beta[j] += float(sums[size_t(j)]);
      b.grad_gamma[j] += float(sums[size_t(c + j)]);
    }
    if (!b.dx) return;
    if (b.combine_sums) b.combine_sums(sums.data());
    std::vector<float> k(static_cast<size_t>(c)), mg(static_cast<size_t>(c), 0.f),
        mgx(static_cast<size_t>(c), 0.f);
    const double n = double(std::max<int64_t>(b.stat_rows > 0 ? b.stat_rows : s.rows, 1));
    for (int64_t j = 0; j < c; ++j) {
      k[size_t(j)] = b.gamma[j] * b.inv_std[j];
      if (b.training) {
        // The batch's mean and variance move with every x: two more terms.
        mg[size_t(j)] = float(sums[size_t(j)] / n);
        mgx[size_t(j)] = float(sums[size_t(c + j)] / n);
      }
    }
    parallel_for(s.rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(c, 1)),
                 [&](int64_t r0, int64_t r1) {
                   thread_local ScratchBuffer t_row;
                   float* g = fused ? t_row.get(c) : nullptr;
                   for (int64_t r = r0; r < r1; ++r) {
                     const float* gr = b.dy + r * c;
                     if (fused) act_grad_row(c, b.x + r * c, b.scale, b.shift, gr, b.act, g), gr = g;
                     dx_row(c, b.x + r * c, gr, b.mean, b.inv_std, k.data(), mg.data(),
                            mgx.data(), b.dx + r * c);
                   }
                 });
  }
};

}  // namespace
}  // namespace xcept

// The three table rows of one ISA file, named batch_norm_<op>_nhwc_f32_<isa>.
#define XCEPT_BATCH_NORM_ROWS(isa)                                                            \
  namespace xcept {                                                                           \
  void batch_norm_stats_nhwc_f32_##isa(const BatchNormShape& s, const float* x, float* mean,  \
                                       float* var) {                                          \
    BatchNormNhwc::stats(s, x, mean, var);                                                    \
  }                                                                                           \
  void batch_norm_fwd_nhwc_f32_##isa(const BatchNormShape& s, const float* x,                 \
                                     const float* scale, const float* shift, Act act,  \
                                     float* y) {                                              \
    BatchNormNhwc::forward(s, x, scale, shift, act, y);                                       \
  }                                                                                           \
  void batch_norm_bwd_nhwc_f32_##isa(const BatchNormShape& s, const BatchNormBackward& b) {   \
    BatchNormNhwc::backward(s, b);                                                            \
  }                                                                                           \
  }

// The memory-bound kernels of a training step at the shapes mini-xception and
// mini-mobilenet give them at batch 128: the batch-norm rows (stats, forward, backward
// with and without a fused relu) and the depthwise rows (forward, backward data,
// backward filter; stride 1 and 2). They run at memory speed or not at all, so the rate
// is GB/s of the tensors each call must read and write at least once.
// Run: build/xcept_bench --benchmark_filter=train_
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/tensor.h"
#include "core/threadpool.h"
#include "kernels/kernels.h"
#include "layer_shapes.h"

namespace xcept::bench {
namespace {

constexpr int64_t kBatch = 128;

void set_bytes(benchmark::State& st, double floats) {
  st.counters["GB/s"] = benchmark::Counter(4e-9 * floats, benchmark::Counter::kIsIterationInvariantRate);
}

// Registers body under name + "/threads:T" for T = 1 and 2, run with that many threads.
template <typename Body>
void register_threads(const std::string& name, Body body) {
  for (int threads : {1, 2}) {
    benchmark::RegisterBenchmark((name + "/threads:" + std::to_string(threads)).c_str(),
                                 [body, threads](benchmark::State& st) {
                                   const int saved = num_threads();
                                   set_num_threads(threads);
                                   body(st);
                                   set_num_threads(saved);
                                 })
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }
}

Tensor filled(Dims d, float v) {
  Tensor t(std::move(d));
  t.fill(v);
  return t;
}

struct BnCase {
  const char* name;
  int64_t hw, c;
};
// block2_sepconv1_bn (28x28x128) and a 7x7x256 middle-flow batch norm.
const BnCase kBnCases[] = {{"28x28x128", 28, 128}, {"7x7x256", 7, 256}};

const bool registered_bn = [] {
  for (const BnCase& bc : kBnCases) {
    const BatchNormShape s{kBatch * bc.hw * bc.hw, bc.c};
    const double n = double(s.rows * s.c);
    for (const auto& row : batch_norm_stats_kernels()) {
      if (row.is_reference() || !isa_available(row.isa)) continue;
      std::string name = std::string("train_bn_stats/") + row.name + "/" + bc.name;
      register_threads(name, [&row, s, n](benchmark::State& st) {
        Tensor x = filled({s.rows, s.c}, 0.5f);
        std::vector<float> mean(size_t(s.c)), var(size_t(s.c));
        for (auto _ : st) row.fn(s, x.data(), mean.data(), var.data());
        set_bytes(st, n);
      });
    }
    for (const auto& row : batch_norm_fwd_kernels()) {
      if (row.is_reference() || !isa_available(row.isa)) continue;
      std::string name = std::string("train_bn_fwd_relu/") + row.name + "/" + bc.name;
      register_threads(name, [&row, s, n](benchmark::State& st) {
        Tensor x = filled({s.rows, s.c}, 0.5f), y({s.rows, s.c});
        std::vector<float> scale(size_t(s.c), 1.1f), shift(size_t(s.c), -0.2f);
        for (auto _ : st) row.fn(s, x.data(), scale.data(), shift.data(), Act::relu(), y.data());
        set_bytes(st, 2 * n);
      });
    }
    for (const auto& row : batch_norm_bwd_kernels()) {
      if (row.is_reference() || !isa_available(row.isa)) continue;
      for (Act act : {Act::none(), Act::relu()}) {
        std::string name = std::string("train_bn_bwd_") + act_name(act) + "/" + row.name + "/" + bc.name;
        register_threads(name, [&row, s, n, act](benchmark::State& st) {
          Tensor x = filled({s.rows, s.c}, 0.5f), dy = filled({s.rows, s.c}, 0.01f), dx({s.rows, s.c});
          std::vector<float> v(size_t(s.c), 1.f), shift(size_t(s.c), -0.2f), dg(size_t(s.c)), db(size_t(s.c));
          BatchNormBackward b;
          b.x = x.data(), b.dy = dy.data(), b.scale = v.data(), b.shift = shift.data();
          b.mean = shift.data(), b.inv_std = v.data(), b.gamma = v.data(), b.act = act;
          b.grad_gamma = dg.data(), b.grad_beta = db.data(), b.dx = dx.data();
          for (auto _ : st) row.fn(s, b);
          set_bytes(st, 3 * n);  // read x and dy, write dx
        });
      }
    }
  }
  return true;
}();

ConvShape batched(ConvShape s) {
  ConvParams p;
  p.out_channels = s.m, p.kernel_h = s.kh, p.kernel_w = s.kw;
  p.stride_h = s.stride_h, p.stride_w = s.stride_w, p.groups = s.groups, p.padding = Padding::same();
  return make_conv_shape("bench", kBatch, s.h, s.w, s.c, p);
}

// mini-xception's block2_sepconv2 depthwise (28x28x128), mini-mobilenet's conv_dw_2
// (28x28x64, stride 2) and a 7x7x256 middle-flow depthwise.
const bool registered_dw = [] {
  const NamedConv cases[] = {
      {"28x28x128_s1", batched(conv_layer(28, 128, 128, 3, 1, 128, Padding::same()))},
      {"28x28x64_s2", batched(conv_layer(28, 64, 64, 3, 2, 64, Padding::same()))},
      {"7x7x256_s1", batched(conv_layer(7, 256, 256, 3, 1, 256, Padding::same()))},
  };
  for (const NamedConv& nc : cases) {
    const ConvShape s = nc.shape;
    const double io = double(s.input_numel() + s.output_numel());
    for (const auto& row : conv2d_fwd_kernels()) {
      if (row.is_reference() || !isa_available(row.isa) || !row.supports(s)) continue;
      std::string name = std::string("train_dw_fwd/") + row.name + "/" + nc.name;
      register_threads(name, [&row, s, io](benchmark::State& st) {
        Tensor x = filled({s.input_numel()}, 0.5f), w = filled({s.weight_numel()}, 0.1f), y({s.output_numel()});
        for (auto _ : st) row.fn(s, x.data(), w.data(), nullptr, y.data());
        set_bytes(st, io);
      });
      break;  // the row dispatch picks
    }
    for (const auto& row : conv2d_bwd_data_kernels()) {
      if (row.is_reference() || !isa_available(row.isa) || !row.supports(s)) continue;
      std::string name = std::string("train_dw_bwd_data/") + row.name + "/" + nc.name;
      register_threads(name, [&row, s, io](benchmark::State& st) {
        Tensor dy = filled({s.output_numel()}, 0.5f), w = filled({s.weight_numel()}, 0.1f), dx({s.input_numel()});
        for (auto _ : st) row.fn(s, dy.data(), w.data(), dx.data());
        set_bytes(st, io);
      });
      break;
    }
    for (const auto& row : conv2d_bwd_filter_kernels()) {
      if (row.is_reference() || !isa_available(row.isa) || !row.supports(s)) continue;
      std::string name = std::string("train_dw_bwd_filter/") + row.name + "/" + nc.name;
      register_threads(name, [&row, s, io](benchmark::State& st) {
        Tensor x = filled({s.input_numel()}, 0.5f), dy = filled({s.output_numel()}, 0.01f);
        Tensor dw({s.weight_numel()});
        for (auto _ : st) row.fn(s, x.data(), dy.data(), dw.data(), nullptr, false);
        set_bytes(st, io);
      });
      break;
    }
  }
  return true;
}();

}  // namespace
}  // namespace xcept::bench

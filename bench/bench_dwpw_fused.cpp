// Depthwise -> pointwise pairs of Xception (299x299) and MobileNet (224x224), batch 1:
// the fused kernel (kernels/dwconv_pwconv_fused_nhwc_f32.h) at several band budgets
// ("fused_<KB>", "fused_untiled") against the two kernels the runtime runs unfused
// ("unfused": depthwise into a 64-byte aligned buffer, then the prepacked GEMM).
// Both with relu6 after each convolution, as MobileNet has them. Threads: the pool's.
// Run: build/xcept_bench --benchmark_filter=dwpw
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "kernels/conv2d_prepacked.h"
#include "kernels/dwconv_pwconv_fused_nhwc_f32.h"
#include "kernels/kernels.h"
#include "layer_shapes.h"

namespace xcept::bench {
namespace {

struct Pair {
  const char* name;
  int64_t hw, c, m, stride;
};

// Every distinct pair shape of the two models.
const Pair kPairs[] = {
    {"mobilenet/1_112x32_64", 112, 32, 64, 1},      {"mobilenet/2_112x64s2_128", 112, 64, 128, 2},
    {"mobilenet/3_56x128_128", 56, 128, 128, 1},    {"mobilenet/5_28x256_256", 28, 256, 256, 1},
    {"mobilenet/7_14x512_512", 14, 512, 512, 1},    {"mobilenet/13_7x1024_1024", 7, 1024, 1024, 1},
    {"xception/b2_147x64_128", 147, 64, 128, 1},    {"xception/b2_147x128_128", 147, 128, 128, 1},
    {"xception/b3_74x256_256", 74, 256, 256, 1},    {"xception/b4_37x728_728", 37, 728, 728, 1},
    {"xception/mid_19x728_728", 19, 728, 728, 1},   {"xception/b14_10x1536_2048", 10, 1536, 2048, 1},
};

class Aligned {
 public:
  Aligned(int64_t n, float v)
      : p_(static_cast<float*>(std::aligned_alloc(64, size_t((n * 4 + 63) / 64 * 64)))) {
    for (int64_t i = 0; i < n; ++i) p_[i] = v;
  }
  ~Aligned() { std::free(p_); }
  Aligned(const Aligned&) = delete;
  Aligned& operator=(const Aligned&) = delete;
  float* get() const { return p_; }

 private:
  float* p_;
};

// budget < 0: unfused; 0: untiled.
void run_pair(benchmark::State& st, const Pair& pr, int64_t budget) {
  const ConvShape dw = conv_layer(pr.hw, pr.c, pr.c, 3, pr.stride, pr.c, Padding::same());
  ConvParams q;
  q.out_channels = pr.m;
  const ConvShape pw = make_conv_shape("pw", 1, dw.ho, dw.wo, pr.c, q);
  std::vector<float> wd(size_t(dw.weight_numel()), 0.1f), wp(size_t(pw.weight_numel()), 0.01f);
  std::vector<float> bd(size_t(pr.c), 0.1f), bp(size_t(pr.m), 0.f);
  Aligned x(dw.input_numel(), 0.5f), mid(dw.output_numel(), 0.f), y(pw.output_numel(), 0.f);
  const ConvEpilogue dw_ep(bd.data(), nullptr, ActKind::clip, 0.f, 6.f);
  const ConvEpilogue pw_ep(bp.data(), nullptr, ActKind::clip, 0.f, 6.f);
  if (budget < 0) {
    const Conv2dPrepacked pp(pw, wp.data());
    for (auto _ : st) {
      conv2d_fwd(dw, x.get(), wd.data(), dw_ep, mid.get());
      pp.run(mid.get(), pw_ep, y.get());
    }
  } else {
    const DwPwConvFused f(dw, wd.data(), pw, wp.data());
    for (auto _ : st) f.run(x.get(), dw_ep, pw_ep, y.get(), budget ? budget : int64_t(1) << 40);
  }
  const double flop = 2.0 * double(dw.output_numel() * 9 + pw.output_numel() * pr.c);
  st.counters["GFLOP/s"] =
      benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

const bool registered = [] {
  for (const Pair& pr : kPairs)
    for (int64_t kb : {-1, 128, 256, 512, 1024, 0}) {
      const std::string variant = kb < 0    ? "unfused"
                                  : kb == 0 ? "fused_untiled"
                                            : "fused_" + std::to_string(kb) + "K";
      const std::string name = "dwpw/" + variant + "/" + pr.name;
      benchmark::RegisterBenchmark(name.c_str(), [pr, kb](benchmark::State& st) {
        run_pair(st, pr, kb > 0 ? kb << 10 : kb);
      })->Unit(benchmark::kMicrosecond)->UseRealTime();
    }
  return true;
}();

}  // namespace
}  // namespace xcept::bench

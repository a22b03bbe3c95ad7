// Print a model's per-layer costs: parameters and MACs by the papers' convention.
//   model_costs NAME|CHECKPOINT|MODEL.onnx     e.g. model_costs mobilenet
#include <xcept/xcept.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s NAME|CHECKPOINT|MODEL.onnx\n", argv[0]);
    return 2;
  }
  try {
    const xcept::ModelSummary s = xcept::summarize(argv[1]);
    std::printf("%-32s %-20s %14s %16s\n", "layer", "type", "params", "MACs");
    for (const xcept::LayerSummary& l : s.layers)
      std::printf("%-32s %-20s %14lld %16lld\n", l.name.c_str(), l.type.c_str(),
                  static_cast<long long>(l.params), static_cast<long long>(l.macs));
    std::printf("total: %lld parameters (%lld trainable), %.3f GMACs per image\n",
                static_cast<long long>(s.params_total), static_cast<long long>(s.params_trainable),
                double(s.macs) * 1e-9);
  } catch (const xcept::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

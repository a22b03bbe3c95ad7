// libFuzzer target: an ONNX model from untrusted bytes through the whole inference path.
//
// load_onnx_model_from_bytes -> import_onnx with small input shapes -> optimize ->
// Executor -> one run on zeros. Any xcept::Error is a correct rejection; a crash, a
// sanitizer report, a leak, or an allocation over -malloc_limit_mb is a finding.
// Graph inputs get their declared dims, with symbolic or missing sizes set to 2 and
// no more than kMaxInputElements elements (a model declaring a huge input is skipped:
// that is the caller's choice of shape, not something the file can force).
// Built by -DXCEPT_FUZZ=ON with clang; run by scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/threadpool.h"
#include "io/onnx/onnx_import.h"
#include "io/onnx/onnx_model.h"
#include "runtime/executor.h"
#include "runtime/optimize.h"
#include "onnx/onnx_pb.h"

namespace {

constexpr int64_t kMaxInputElements = int64_t{1} << 16;
constexpr int kMaxInputRank = 6;
constexpr int64_t kMaxRunElements = int64_t{1} << 24;  // all activations, 64 MB

// Dims for one graph input, or false when they would be too large to run.
bool input_dims(const onnx::ValueInfoProto& vi, xcept::Dims& dims) {
  dims.clear();
  if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape()) {
    dims = {1, 2, 4, 4};
    return true;
  }
  const auto& shape = vi.type().tensor_type().shape();
  if (shape.dim_size() > kMaxInputRank) return false;
  int64_t n = 1;
  for (const auto& d : shape.dim()) {
    int64_t v = d.has_dim_value() ? d.dim_value() : 2;
    if (v < 0 || v > kMaxInputElements) return false;
    n *= v;
    if (n > kMaxInputElements) return false;
    dims.push_back(v);
  }
  return true;
}

void run_model(std::string_view bytes) {
  onnx::ModelProto model = xcept::load_onnx_model_from_bytes(bytes, "fuzz.onnx");
  std::vector<std::string> names = xcept::onnx_graph_input_names(model);
  std::vector<xcept::HostTensor> values;  // integer inputs must come with values
  values.reserve(names.size());
  std::vector<xcept::OnnxInput> inputs;
  for (const std::string& name : names) {
    const onnx::ValueInfoProto* vi = nullptr;
    for (const auto& gi : model.graph().input())
      if (gi.name() == name) vi = &gi;
    xcept::Dims dims;
    if (!vi || !input_dims(*vi, dims)) return;
    const int32_t et = vi->type().has_tensor_type() ? vi->type().tensor_type().elem_type()
                                                   : onnx::TensorProto::FLOAT;
    xcept::OnnxInput in{dims, nullptr};
    if (et != onnx::TensorProto::FLOAT) {
      int64_t n = 1;
      for (int64_t d : dims) n *= d;
      // Small non-negative values: plausible axes, indices and shape entries.
      std::vector<int64_t> v(static_cast<size_t>(n));
      for (size_t i = 0; i < v.size(); ++i) v[i] = int64_t(i % 3);
      values.push_back(xcept::HostTensor::from_i64(dims, std::move(v)));
      in.value = &values.back();
    }
    inputs.push_back(in);
  }
  xcept::Program program = xcept::import_onnx(model, inputs, {"fuzz.onnx", {}});
  // Sizes that attributes ask for (a Conv pad of 44 million columns) are a legal model
  // whose activations are huge: running it measures memory, not robustness. Allocations
  // during import (constant folding) still count.
  int64_t total = 0;
  for (const xcept::Value& v : program.values()) {
    if (v.is_constant) continue;
    int64_t n = 1;
    for (int64_t d : v.dims) n = d > 0 && n <= kMaxRunElements / d ? n * d : kMaxRunElements + 1;
    total += n;
    if (n > kMaxRunElements || total > kMaxRunElements) return;
  }
  xcept::optimize(program);
  xcept::Executor exec(std::move(program));
  std::vector<xcept::Tensor> feeds;
  for (xcept::ValueId v : exec.program().inputs()) feeds.emplace_back(exec.program().value(v).dims);
  std::vector<const xcept::Tensor*> ptrs;
  for (const xcept::Tensor& t : feeds) ptrs.push_back(&t);
  exec.run(ptrs);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  xcept::set_num_threads(1);  // findings must reproduce run to run
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    run_model(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const xcept::Error&) {
    // A rejection with a message: what untrusted input should get.
  }
  return 0;
}

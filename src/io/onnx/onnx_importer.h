// Internal to the ONNX importer (onnx_import*.cpp): the values being built and the
// helpers the operator handlers share. Not a public interface.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/onnx/onnx_import.h"
#include "runtime/op.h"
#include "onnx/onnx_pb.h"

namespace xcept::onnx_import {

// Physical NHWC holds logical NCHW dims permuted by kToNhwc.
inline const std::vector<int> kToNhwc = {0, 2, 3, 1};
inline const std::vector<int> kToNchw = {0, 3, 1, 2};

// One ONNX value. Logical dims are ONNX's (NCHW for feature maps).
struct Val {
  std::string name;
  Dims dims;
  std::optional<HostTensor> constant;  // known at import time
  ValueId nchw = -1, nhwc = -1;          // runtime program values (either or both)
  // A QDQ model's encoding of this value (QuantizeLinear): recorded for every program
  // value that holds it, layout copies included.
  std::optional<ActivationRange> range;
  bool pure_constant() const { return constant && nchw < 0 && nhwc < 0; }
  bool runtime() const { return nchw >= 0 || nhwc >= 0; }
  bool is_nhwc() const { return nhwc >= 0 && nchw < 0; }  // prefers NHWC
};

enum class Layout { nchw, nhwc };

class Importer {
 public:
  Importer(const onnx::ModelProto& model, const std::vector<OnnxInput>& inputs,
           const OnnxImportOptions& options);
  Program run();

  // ---- used by the handlers
  const onnx::NodeProto* node = nullptr;  // the node being imported
  int64_t opset = 0;
  std::string where() const;  // "model.onnx: node 'conv1' (Conv)"
  [[noreturn]] void unsupported(const std::string& what) const;
  template <typename... Args>
  [[noreturn]] void bad(fmt::format_string<Args...> f, Args&&... args) const {
    throw Error(where() + ": " + fmt::format(f, std::forward<Args>(args)...));
  }

  int num_inputs() const;                   // including trailing empty ones
  bool has_input(int i) const;              // present and not ""
  Val& in(int i);                           // throws if absent
  const HostTensor& const_in(int i, const char* slot);  // must be constant
  std::vector<int64_t> const_ints(int i, const char* slot);
  void set_out(int i, Val v);
  bool output_used(int i) const;

  const onnx::AttributeProto* attr(const char* name) const;
  int64_t attr_i(const char* name, int64_t def) const;
  float attr_f(const char* name, float def) const;
  std::string attr_s(const char* name, const std::string& def) const;
  std::optional<std::vector<int64_t>> attr_ints(const char* name) const;
  std::optional<std::vector<float>> attr_floats(const char* name) const;

  // The runtime program value of v in a layout (rank-4 values only for NHWC); adds the
  // constant or a Transpose step as needed, cached.
  ValueId get(Val& v, Layout l);
  Layout preferred(const Val& v) const { return v.is_nhwc() ? Layout::nhwc : Layout::nchw; }
  // Adds a step (or evaluates it now when every input is a pure constant, then the op
  // must have been built for NCHW). Returns the result in layout l.
  // fold = false: never evaluate now (ops built for NHWC, such as convolutions).
  Val emit(std::unique_ptr<Op> op, std::vector<Val*> ins, Layout l, const std::string& suffix = {},
           bool fold = true);
  // The value with new logical dims (same element order in NCHW).
  Val reshape(Val& v, const Dims& dims);
  Val constant(HostTensor t) const;

  Program program;
  // Records v's range (when it has one) for each program value holding it.
  void record_range(const Val& v);
  std::string step_name() const;
  const OnnxImportOptions& options() const { return options_; }
  const onnx::ModelProto& model() const { return model_; }

 private:
  const onnx::ModelProto& model_;
  const OnnxImportOptions& options_;
  std::map<std::string, Val> vals_;
  std::map<std::string, int> uses_;  // consumers of each value name, graph outputs included
  HostTensor fold(Op& op, const std::vector<Val*>& ins);
};

// Dispatches one node to its handler; false if the op type is unknown.
bool import_node(Importer& im, const onnx::NodeProto& node);
bool import_extra_node(Importer& im, const onnx::NodeProto& node);  // onnx_import_extra.cpp
bool import_quant_node(Importer& im, const onnx::NodeProto& node);  // onnx_import_quant.cpp
void import_conv_family(Importer& im);                              // onnx_import_conv.cpp
void import_dense_family(Importer& im);

// Shared by the handlers.
int64_t norm_axis(Importer& im, int64_t axis, int64_t rank, const char* what);
// Position of logical (NCHW) axis a in the NHWC physical dims.
inline int nhwc_pos(int64_t a) { return kToNchw[static_cast<size_t>(a)]; }
Dims broadcast_dims(Importer& im, const Dims& a, const Dims& b);
// For each element of `out`, the flat index of the element of `in` broadcast onto it.
std::vector<int64_t> broadcast_src(const Dims& in, const Dims& out);

Tensor permute(const Tensor& t, const std::vector<int>& perm);
Dims permute_dims(const Dims& d, const std::vector<int>& perm);
int64_t dims_numel(const Dims& d);

}  // namespace xcept::onnx_import

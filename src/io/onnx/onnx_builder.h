// Internal to the ONNX exporters (onnx_export.cpp: a Graph; onnx_export_qdq.cpp: an int8
// Program): building nodes, initializers and the model record. Not a public interface.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/onnx/onnx_export.h"
#include "onnx/onnx_pb.h"

namespace xcept::onnx_export {

void set_int(onnx::NodeProto* n, const char* name, int64_t v);
void set_float(onnx::NodeProto* n, const char* name, float v);
void set_ints(onnx::NodeProto* n, const char* name, const std::vector<int64_t>& v);

// Adds nodes and initializers to one GraphProto, keeping every name unique.
class Builder {
 public:
  explicit Builder(onnx::GraphProto* g) : g_(g) {}

  std::string unique(const std::string& base);
  // A node named after its output: values are named after the node that makes them.
  onnx::NodeProto* node(const char* op, const std::vector<std::string>& inputs,
                        const std::string& output);

  // Initializers (raw little-endian data); each returns the unique name given.
  std::string floats(const std::string& base, const Dims& dims, const float* data);
  std::string int64s(const std::string& base, const std::vector<int64_t>& v);
  std::string int32s(const std::string& base, const Dims& dims, const int32_t* data);
  std::string int8s(const std::string& base, const Dims& dims, const int8_t* data);
  std::string uint8s(const std::string& base, const Dims& dims, const uint8_t* data);

  // Clip's bounds for relu6, shared by every relu6 of the model.
  const std::vector<std::string>& relu6_bounds();

 private:
  onnx::TensorProto* initializer(const std::string& base, int type, const Dims& dims);
  onnx::GraphProto* g_;
  std::set<std::string> used_;
  std::vector<std::string> relu6_;
};

// HWIO [kh][kw][cg][m] -> OIHW [m][cg][kh][kw].
std::vector<float> hwio_to_oihw(const Tensor& w);

// A float graph input or output [batch, ...]: per-image dims {H,W,C} (xcept's feature
// map) are declared CHW, {N} as it is; the batch is symbolic ("batch").
void set_io(onnx::ValueInfoProto* v, const std::string& name, const Dims& per_image);

// Renames value `from` to `to` wherever a node reads or writes it.
void rename_value(onnx::GraphProto* g, const std::string& from, const std::string& to);

// A model record with xcept's IR version, opset, producer, doc and metadata.
onnx::ModelProto new_model(const OnnxExportOptions& options);

// Throws unless the input and output names are distinct and non-empty.
void check_io_names(const std::string& model, const OnnxExportOptions& options);

}  // namespace xcept::onnx_export

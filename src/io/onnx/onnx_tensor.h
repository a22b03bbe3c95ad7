// Tensors as ONNX and NumPy store them, read without trusting their headers: dims are
// checked for negatives and overflow and against the bytes really there, external data is
// resolved next to the model with offset/length checked and paths escaping the model's
// folder refused. Every error names the file (or tensor) and the field or shape.
//
// Values the importer needs are float32 (data) or int64 (shapes, indices, axes; int32
// and other integer types are widened), so a HostTensor is one of the two.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"
#include "io/onnx/onnx_fwd.h"

namespace xcept {

struct HostTensor {
  enum class Type { f32, i64 };
  Type type = Type::f32;
  Dims dims;
  Tensor f32;                // when type == f32 (f32.dims() == dims)
  std::vector<int64_t> i64;  // when type == i64, numel(dims) entries
  int32_t onnx_type = 0;     // the TensorProto data type it was read as (0: computed)

  static HostTensor from_f32(Tensor t);
  static HostTensor from_i64(Dims dims, std::vector<int64_t> values);
  bool is_f32() const { return type == Type::f32; }
  int64_t numel() const;
};

// Tensor files: ONNX TensorProto (.pb) or NumPy (.npy; float32 or int64, little-endian,
// C order). The readers cap the size before reading.
inline constexpr int64_t kMaxTensorFileBytes = int64_t{1} << 32;

// Converts a TensorProto (FLOAT from raw_data or float_data; INT64/INT32/INT8/UINT8/
// INT16/UINT16/BOOL to i64; DOUBLE narrowed to f32). `context` names it in messages
// (e.g. "model.onnx: initializer 'conv1.weight'"). External data is read relative to
// `base_dir` (the model's folder); an empty base_dir refuses external data.
HostTensor tensor_from_proto(const onnx::TensorProto& t, std::string_view context,
                             const std::string& base_dir = {});

// A float tensor as a TensorProto with raw_data (little-endian), named `name`.
onnx::TensorProto tensor_to_proto(const Tensor& t, const std::string& name);

HostTensor read_tensor_pb_from_bytes(std::string_view bytes, std::string_view name_for_errors);
HostTensor read_npy_from_bytes(std::string_view bytes, std::string_view name_for_errors);
std::string npy_bytes(const Tensor& t);  // a complete .npy file (format 1.0, '<f4')

HostTensor read_tensor_pb(const std::string& path);
HostTensor read_npy(const std::string& path);
// By extension: ".npy" is NumPy, anything else a TensorProto.
HostTensor read_tensor_file(const std::string& path);
// By extension, written to a temporary file next to `path` and renamed into place.
void write_tensor_file(const std::string& path, const Tensor& t, const std::string& name = {});

}  // namespace xcept

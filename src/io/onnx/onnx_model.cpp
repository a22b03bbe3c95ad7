#include "io/onnx/onnx_model.h"

#include <climits>

#include "core/error.h"
#include "io/byte_stream.h"
#include "onnx/onnx_pb.h"

namespace xcept {

onnx::ModelProto load_onnx_model_from_bytes(std::string_view bytes,
                                            std::string_view name_for_errors) {
  if (bytes.empty()) fail("{}: empty file, not an ONNX model", name_for_errors);
  if (static_cast<int64_t>(bytes.size()) > kMaxOnnxModelBytes)
    fail("{}: {} bytes, more than protobuf's limit of {} for one model", name_for_errors,
         bytes.size(), kMaxOnnxModelBytes);
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    fail("{}: not a valid ONNX model (protobuf parse failed on {} bytes; truncated or not "
         "ONNX)",
         name_for_errors, bytes.size());
  if (!model.has_graph()) fail("{}: ONNX model has no graph", name_for_errors);
  return model;
}

onnx::ModelProto load_onnx_model(const std::string& path) {
  std::vector<uint8_t> bytes = read_file_bytes(path, kMaxOnnxModelBytes);
  return load_onnx_model_from_bytes(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
}

int64_t onnx_default_opset(const onnx::ModelProto& model) {
  for (const auto& op : model.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") return op.version();
  // IR version 1-2 models had no opset_import: opset 1.
  return 1;
}

}  // namespace xcept

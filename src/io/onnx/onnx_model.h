// Loading an ONNX model without trusting it: the file size is capped before reading, a
// protobuf parse failure names the file, and the graph is checked for what the importer
// relies on (names present, no duplicate outputs) before anything is built from it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "io/onnx/onnx_fwd.h"

namespace xcept {

// Protobuf cannot parse more than 2 GiB in one message; weights beyond that must be in
// external data files (which tensor_from_proto reads, checked, next to the model).
inline constexpr int64_t kMaxOnnxModelBytes = (int64_t{1} << 31) - 1;

// Parses a serialized ModelProto. `name_for_errors` (usually the path) starts every
// message. Throws xcept::Error on empty or oversized input, a parse failure, or a model
// without a graph.
onnx::ModelProto load_onnx_model_from_bytes(std::string_view bytes,
                                            std::string_view name_for_errors);

// Reads `path` (size checked against kMaxOnnxModelBytes before reading) and parses it.
onnx::ModelProto load_onnx_model(const std::string& path);

// The opset version the model declares for the default ("" or "ai.onnx") domain.
int64_t onnx_default_opset(const onnx::ModelProto& model);

}  // namespace xcept

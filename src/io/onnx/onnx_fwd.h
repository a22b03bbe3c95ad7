// ONNX's protobuf classes by name only. Headers of io/onnx declare functions on them
// without including protobuf, so code that merely passes a model along (the Model
// facade, the CLI) needs neither protobuf's headers nor ONNX's; the .cpp files that
// read or build messages include "onnx/onnx_pb.h" themselves.
#pragma once

namespace onnx {
class ModelProto;
class TensorProto;
}  // namespace onnx

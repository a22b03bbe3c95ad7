// XCEPT_API marks what the shared library libxcept.so exports. The library is compiled
// with hidden visibility, so only the facade in include/xcept/ is its ABI; the engine
// behind it (kernels, layers, runtime, ONNX/protobuf) stays private.
#pragma once

#define XCEPT_API __attribute__((visibility("default")))

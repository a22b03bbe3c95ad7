// libFuzzer target: tensor files from untrusted bytes, both readers on every input
// (.npy rejects anything without its magic at once; TensorProto parses almost anything).
// Any xcept::Error is a correct rejection; a crash, a sanitizer report, a leak, or an
// allocation over -malloc_limit_mb is a finding. Built by -DXCEPT_FUZZ=ON with clang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "io/onnx/onnx_tensor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    xcept::read_npy_from_bytes(bytes, "fuzz.npy");
  } catch (const xcept::Error&) {
  }
  try {
    xcept::read_tensor_pb_from_bytes(bytes, "fuzz.pb");
  } catch (const xcept::Error&) {
  }
  return 0;
}

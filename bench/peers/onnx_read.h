// The ONNX protobuf pieces the XNNPACK peer reads: constant tensors (float32, int64) with
// their sizes checked, and node attributes with defaults.
#pragma once

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "onnx/onnx_pb.h"
#include "onnx_to_xnnpack.h"

inline std::string str(const Dims& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

// A constant: an initializer or a Constant node's value, as floats or int64s.
struct Constant {
  Dims dims;
  std::vector<float> f;
  std::vector<int64_t> i;
};

inline Constant read_tensor(const onnx::TensorProto& t) {
  Constant c;
  for (int64_t d : t.dims()) {
    if (d < 0 || d > (int64_t{1} << 32))
      throw std::runtime_error("tensor '" + t.name() + "': bad dim " + std::to_string(d));
    c.dims.push_back(size_t(d));
  }
  const size_t n = count(c.dims);
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    throw std::runtime_error("tensor '" + t.name() + "': external data is not supported");
  // Float32 or int64 values, from raw_data (little-endian, as this host) or the typed field.
  auto fill = [&](auto& out, const auto& typed, const char* what) {
    using T = typename std::remove_reference_t<decltype(out)>::value_type;
    if (!t.has_raw_data()) {
      out.assign(typed.begin(), typed.end());
    } else if (t.raw_data().size() == n * sizeof(T)) {
      out.resize(n);
      std::memcpy(out.data(), t.raw_data().data(), n * sizeof(T));
    }
    if (out.size() != n)
      throw std::runtime_error("tensor '" + t.name() + "': " + str(c.dims) + " needs " +
                               std::to_string(n) + " " + what + ", the file holds " +
                               std::to_string(t.has_raw_data() ? t.raw_data().size() / sizeof(T)
                                                               : size_t(typed.size())));
  };
  if (t.data_type() == onnx::TensorProto::FLOAT)
    fill(c.f, t.float_data(), "floats");
  else if (t.data_type() == onnx::TensorProto::INT64)
    fill(c.i, t.int64_data(), "ints");
  else
    throw std::runtime_error("tensor '" + t.name() + "': data type " +
                             std::to_string(t.data_type()) + " (only float32 and int64)");
  return c;
}

inline const onnx::AttributeProto* attr(const onnx::NodeProto& n, const char* name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
inline int64_t attr_i(const onnx::NodeProto& n, const char* name, int64_t def) {
  auto a = attr(n, name);
  return a ? a->i() : def;
}
inline float attr_f(const onnx::NodeProto& n, const char* name, float def) {
  auto a = attr(n, name);
  return a ? a->f() : def;
}
inline std::string attr_s(const onnx::NodeProto& n, const char* name, const char* def) {
  auto a = attr(n, name);
  return a ? a->s() : def;
}
inline std::vector<int64_t> attr_ints(const onnx::NodeProto& n, const char* name,
                                      std::vector<int64_t> def) {
  auto a = attr(n, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : def;
}

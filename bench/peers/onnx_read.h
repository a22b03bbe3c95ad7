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
  auto raw = [&](auto& out) {
    using T = typename std::remove_reference_t<decltype(out)>::value_type;
    if (t.raw_data().size() != n * sizeof(T))
      throw std::runtime_error("tensor '" + t.name() + "': " + str(c.dims) + " needs " +
                               std::to_string(n * sizeof(T)) + " bytes, raw_data has " +
                               std::to_string(t.raw_data().size()));
    out.resize(n);
    std::memcpy(out.data(), t.raw_data().data(), n * sizeof(T));  // little-endian host
  };
  if (t.data_type() == onnx::TensorProto::FLOAT) {
    if (t.has_raw_data())
      raw(c.f);
    else
      c.f.assign(t.float_data().begin(), t.float_data().end());
    if (c.f.size() != n)
      throw std::runtime_error("tensor '" + t.name() + "': " + std::to_string(c.f.size()) +
                               " floats for " + str(c.dims));
  } else if (t.data_type() == onnx::TensorProto::INT64) {
    if (t.has_raw_data())
      raw(c.i);
    else
      c.i.assign(t.int64_data().begin(), t.int64_data().end());
    if (c.i.size() != n)
      throw std::runtime_error("tensor '" + t.name() + "': " + std::to_string(c.i.size()) +
                               " ints for " + str(c.dims));
  } else {
    throw std::runtime_error("tensor '" + t.name() + "': data type " +
                             std::to_string(t.data_type()) + " (only float32 and int64)");
  }
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

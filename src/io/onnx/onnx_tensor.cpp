#include "io/onnx/onnx_tensor.h"

#include <bit>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/checked_math.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "io/byte_stream.h"
#include "onnx/onnx_pb.h"

namespace xcept {

static_assert(std::endian::native == std::endian::little,
              "ONNX raw_data and .npy '<' data are little-endian; this reader copies bytes");

namespace fs = std::filesystem;

HostTensor HostTensor::from_f32(Tensor t) {
  HostTensor h;
  h.type = Type::f32;
  h.dims = t.dims();
  h.f32 = std::move(t);
  return h;
}

HostTensor HostTensor::from_i64(Dims dims, std::vector<int64_t> values) {
  HostTensor h;
  h.type = Type::i64;
  h.dims = std::move(dims);
  h.i64 = std::move(values);
  return h;
}

int64_t HostTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

namespace {

// Dims from a file: non-negative, product within kMaxElements.
int64_t checked_numel(const Dims& dims, std::string_view context) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) fail("{}: negative dimension in dims {}", context, dims_to_string(dims));
    n = checked_mul(n, d, fmt::format("{}: dims {}", context, dims_to_string(dims)));
  }
  return n;
}

size_t elem_bytes(int32_t type) {
  using T = onnx::TensorProto;
  switch (type) {
    case T::FLOAT: case T::INT32: case T::UINT32: return 4;
    case T::INT64: case T::UINT64: case T::DOUBLE: return 8;
    case T::INT16: case T::UINT16: case T::FLOAT16: case T::BFLOAT16: return 2;
    case T::INT8: case T::UINT8: case T::BOOL: return 1;
    default: return 0;
  }
}

const char* type_name(int32_t type) {
  return onnx::TensorProto_DataType_IsValid(type)
             ? onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(type)).c_str()
             : "unknown";
}

// Element i of little-endian bytes of an integer/float `type`, widened to int64.
int64_t int_at(const char* p, int32_t type, int64_t i) {
  using T = onnx::TensorProto;
  switch (type) {
    case T::INT64: { int64_t v; std::memcpy(&v, p + i * 8, 8); return v; }
    case T::UINT64: { uint64_t v; std::memcpy(&v, p + i * 8, 8); return static_cast<int64_t>(v); }
    case T::INT32: { int32_t v; std::memcpy(&v, p + i * 4, 4); return v; }
    case T::UINT32: { uint32_t v; std::memcpy(&v, p + i * 4, 4); return v; }
    case T::INT16: { int16_t v; std::memcpy(&v, p + i * 2, 2); return v; }
    case T::UINT16: { uint16_t v; std::memcpy(&v, p + i * 2, 2); return v; }
    case T::INT8: return static_cast<int8_t>(p[i]);
    case T::UINT8: case T::BOOL: return static_cast<uint8_t>(p[i]);
    default: return 0;
  }
}

bool is_int_type(int32_t type) {
  using T = onnx::TensorProto;
  return type == T::INT64 || type == T::UINT64 || type == T::INT32 || type == T::UINT32 ||
         type == T::INT16 || type == T::UINT16 || type == T::INT8 || type == T::UINT8 ||
         type == T::BOOL;
}

// Reads [offset, offset+length) of an external data file, refusing paths that leave the
// model's folder.
std::string read_external(const onnx::TensorProto& t, std::string_view context,
                          const std::string& base_dir, int64_t expected_bytes) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : t.external_data()) {
    auto parse = [&](const char* key) {
      char* end = nullptr;
      errno = 0;
      long long v = std::strtoll(kv.value().c_str(), &end, 10);
      if (kv.value().empty() || *end != '\0' || errno != 0 || v < 0)
        fail("{}: external_data {} '{}' is not a non-negative integer", context, key, kv.value());
      return static_cast<int64_t>(v);
    };
    if (kv.key() == "location") location = kv.value();
    else if (kv.key() == "offset") offset = parse("offset");
    else if (kv.key() == "length") length = parse("length");
  }
  if (base_dir.empty())
    fail("{}: tensor data is in an external file, but no model folder is known to find it",
         context);
  if (location.empty()) fail("{}: external_data has no location", context);
  fs::path rel(location);
  if (rel.is_absolute()) fail("{}: external data location '{}' is absolute", context, location);
  for (const auto& part : rel)
    if (part == "..")
      fail("{}: external data location '{}' leaves the model's folder", context, location);
  const fs::path path = fs::path(base_dir) / rel;
  if (length >= 0 && length != expected_bytes)
    fail("{}: external data length {} but dims need {} bytes", context, length, expected_bytes);
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) fail("{}: external data file {}: {}", context, path.string(), ec.message());
  if (offset > static_cast<int64_t>(size) || expected_bytes > static_cast<int64_t>(size) - offset)
    fail("{}: external data file {} has {} bytes, fewer than offset {} + {} bytes", context,
         path.string(), size, offset, expected_bytes);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open external data file {}", context, path.string());
  std::string data(static_cast<size_t>(expected_bytes), '\0');
  in.seekg(offset);
  in.read(data.data(), expected_bytes);
  if (in.gcount() != expected_bytes)
    fail("{}: external data file {}: short read at offset {}", context, path.string(), offset);
  return data;
}

template <typename Repeated>
void check_count(const Repeated& r, int64_t numel, const char* field, std::string_view context,
                 const Dims& dims) {
  if (static_cast<int64_t>(r.size()) != numel)
    fail("{}: {} has {} values but dims {} need {}", context, field, r.size(),
         dims_to_string(dims), numel);
}

}  // namespace

HostTensor tensor_from_proto(const onnx::TensorProto& t, std::string_view context,
                             const std::string& base_dir) {
  using T = onnx::TensorProto;
  Dims dims(t.dims().begin(), t.dims().end());
  const int64_t numel = checked_numel(dims, context);
  const int32_t type = t.data_type();
  const size_t eb = elem_bytes(type);
  if (type != T::FLOAT && type != T::DOUBLE && !is_int_type(type))
    fail("{}: data type {} is not supported (float32, double or integer)", context,
         type_name(type));
  if (t.has_segment()) fail("{}: segmented tensors are not supported", context);

  // The bytes, when stored raw (raw_data or external).
  std::string external;
  const std::string* raw = nullptr;
  if (t.data_location() == T::EXTERNAL) {
    external = read_external(t, context, base_dir,
                             checked_mul(numel, static_cast<int64_t>(eb), context));
    raw = &external;
  } else if (t.has_raw_data()) {
    raw = &t.raw_data();
  }
  if (raw && static_cast<int64_t>(raw->size()) != numel * static_cast<int64_t>(eb))
    fail("{}: raw_data has {} bytes but dims {} of {} need {}", context, raw->size(),
         dims_to_string(dims), type_name(type), numel * static_cast<int64_t>(eb));
  // Typed fields: the count must match the dims before anything is allocated from them
  // (found by fuzz/fuzz_tensor_file: dims 10^10 with no data asked for 40 GB).
  if (!raw) {
    if (type == T::FLOAT) check_count(t.float_data(), numel, "float_data", context, dims);
    else if (type == T::DOUBLE) check_count(t.double_data(), numel, "double_data", context, dims);
    else if (type == T::INT64) check_count(t.int64_data(), numel, "int64_data", context, dims);
    else if (type == T::UINT32 || type == T::UINT64)
      check_count(t.uint64_data(), numel, "uint64_data", context, dims);
    else check_count(t.int32_data(), numel, "int32_data", context, dims);
  }

  if (type == T::FLOAT || type == T::DOUBLE) {
    Tensor out(dims);
    if (raw) {
      if (type == T::FLOAT) {
        if (numel) std::memcpy(out.data(), raw->data(), static_cast<size_t>(numel) * 4);
      } else {
        for (int64_t i = 0; i < numel; ++i) {
          double v;
          std::memcpy(&v, raw->data() + i * 8, 8);
          out[i] = static_cast<float>(v);
        }
      }
    } else if (type == T::FLOAT) {
      check_count(t.float_data(), numel, "float_data", context, dims);
      for (int64_t i = 0; i < numel; ++i) out[i] = t.float_data(static_cast<int>(i));
    } else {
      check_count(t.double_data(), numel, "double_data", context, dims);
      for (int64_t i = 0; i < numel; ++i)
        out[i] = static_cast<float>(t.double_data(static_cast<int>(i)));
    }
    HostTensor h = HostTensor::from_f32(std::move(out));
    h.onnx_type = type;
    return h;
  }

  std::vector<int64_t> v(static_cast<size_t>(numel));
  if (raw) {
    for (int64_t i = 0; i < numel; ++i) v[i] = int_at(raw->data(), type, i);
  } else if (type == T::INT64) {
    check_count(t.int64_data(), numel, "int64_data", context, dims);
    for (int64_t i = 0; i < numel; ++i) v[i] = t.int64_data(static_cast<int>(i));
  } else if (type == T::UINT32 || type == T::UINT64) {
    check_count(t.uint64_data(), numel, "uint64_data", context, dims);
    for (int64_t i = 0; i < numel; ++i)
      v[i] = static_cast<int64_t>(t.uint64_data(static_cast<int>(i)));
  } else {
    check_count(t.int32_data(), numel, "int32_data", context, dims);
    for (int64_t i = 0; i < numel; ++i) v[i] = t.int32_data(static_cast<int>(i));
  }
  HostTensor h = HostTensor::from_i64(std::move(dims), std::move(v));
  h.onnx_type = type;
  return h;
}

onnx::TensorProto tensor_to_proto(const Tensor& t, const std::string& name) {
  onnx::TensorProto p;
  p.set_name(name);
  p.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : t.dims()) p.add_dims(d);
  p.set_raw_data(std::string(reinterpret_cast<const char*>(t.data()),
                             static_cast<size_t>(t.numel()) * sizeof(float)));
  return p;
}

HostTensor read_tensor_pb_from_bytes(std::string_view bytes, std::string_view name_for_errors) {
  if (static_cast<int64_t>(bytes.size()) >= INT_MAX)
    fail("{}: {} bytes, more than protobuf's limit for one tensor", name_for_errors,
         bytes.size());
  onnx::TensorProto t;
  if (!t.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    fail("{}: not a valid ONNX TensorProto (protobuf parse failed on {} bytes)",
         name_for_errors, bytes.size());
  return tensor_from_proto(t, name_for_errors);
}

// ---- NumPy .npy: magic, version, header length, a Python dict literal, the data.

namespace {

// The value text after 'key': in the header dict, up to the next ',' or '}' outside ().
std::string npy_field(std::string_view header, std::string_view key, std::string_view name) {
  const std::string quoted1 = fmt::format("'{}'", key);
  const std::string quoted2 = fmt::format("\"{}\"", key);
  size_t at = header.find(quoted1);
  size_t klen = quoted1.size();
  if (at == std::string_view::npos) at = header.find(quoted2);
  if (at == std::string_view::npos) fail("{}: .npy header has no '{}'", name, key);
  size_t p = header.find(':', at + klen);
  if (p == std::string_view::npos) fail("{}: .npy header: '{}' has no value", name, key);
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  size_t end = p;
  int depth = 0;
  while (end < header.size()) {
    char c = header[end];
    if (c == '(') ++depth;
    else if (c == ')') { if (--depth == 0) { ++end; break; } }
    else if ((c == ',' || c == '}') && depth == 0) break;
    ++end;
  }
  return std::string(header.substr(p, end - p));
}

}  // namespace

HostTensor read_npy_from_bytes(std::string_view bytes, std::string_view name) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0)
    fail("{}: not a .npy file (no \\x93NUMPY magic)", name);
  const int major = static_cast<uint8_t>(bytes[6]);
  size_t header_len = 0, pos = 0;
  if (major == 1) {
    header_len = static_cast<uint8_t>(bytes[8]) | (size_t{static_cast<uint8_t>(bytes[9])} << 8);
    pos = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail("{}: .npy header truncated", name);
    uint32_t len;
    std::memcpy(&len, bytes.data() + 8, 4);
    header_len = len;
    pos = 12;
  } else {
    fail("{}: .npy format version {} is not supported", name, major);
  }
  if (header_len > bytes.size() - pos)
    fail("{}: .npy header claims {} bytes but the file has {} after the preamble", name,
         header_len, bytes.size() - pos);
  const std::string_view header = bytes.substr(pos, header_len);
  pos += header_len;

  std::string descr = npy_field(header, "descr", name);
  std::string order = npy_field(header, "fortran_order", name);
  std::string shape = npy_field(header, "shape", name);
  if (order != "False") fail("{}: .npy fortran_order {} (only C order is supported)", name, order);
  enum { f4, f8, i8, i4 } kind;
  if (descr == "'<f4'") kind = f4;
  else if (descr == "'<f8'") kind = f8;
  else if (descr == "'<i8'") kind = i8;
  else if (descr == "'<i4'") kind = i4;
  else fail("{}: .npy dtype {} is not supported ('<f4', '<f8', '<i8' or '<i4')", name, descr);

  if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')')
    fail("{}: .npy shape {} is not a tuple", name, shape);
  Dims dims;
  std::string_view s(shape);
  s = s.substr(1, s.size() - 2);
  while (!s.empty()) {
    while (!s.empty() && (s.front() == ' ' || s.front() == ',')) s.remove_prefix(1);
    if (s.empty()) break;
    int64_t d = 0;
    size_t k = 0;
    while (k < s.size() && s[k] >= '0' && s[k] <= '9') {
      if (d > (INT64_MAX - 9) / 10) fail("{}: .npy shape {} overflows", name, shape);
      d = d * 10 + (s[k] - '0');
      ++k;
    }
    if (k == 0) fail("{}: .npy shape {} is not a tuple of sizes", name, shape);
    dims.push_back(d);
    s.remove_prefix(k);
  }
  const int64_t numel = checked_numel(dims, fmt::format("{}: .npy shape", name));
  const int64_t eb = (kind == f4 || kind == i4) ? 4 : 8;
  const int64_t need = checked_mul(numel, eb, name);
  const int64_t have = static_cast<int64_t>(bytes.size() - pos);
  if (have != need)
    fail("{}: .npy shape {} of {} needs {} data bytes but the file has {}", name,
         dims_to_string(dims), descr, need, have);
  const char* p = bytes.data() + pos;
  if (kind == f4 || kind == f8) {
    Tensor t(dims);
    if (kind == f4) {
      if (numel) std::memcpy(t.data(), p, static_cast<size_t>(need));
    } else {
      for (int64_t i = 0; i < numel; ++i) {
        double v;
        std::memcpy(&v, p + i * 8, 8);
        t[i] = static_cast<float>(v);
      }
    }
    return HostTensor::from_f32(std::move(t));
  }
  std::vector<int64_t> v(static_cast<size_t>(numel));
  for (int64_t i = 0; i < numel; ++i) {
    if (kind == i8) {
      std::memcpy(&v[i], p + i * 8, 8);
    } else {
      int32_t x;
      std::memcpy(&x, p + i * 4, 4);
      v[i] = x;
    }
  }
  return HostTensor::from_i64(std::move(dims), std::move(v));
}

std::string npy_bytes(const Tensor& t) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < t.rank(); ++i) header += std::to_string(t.dim(i)) + ", ";
  if (t.rank() > 1) header.resize(header.size() - 2);
  else if (t.rank() == 1) header.resize(header.size() - 1);  // "(5,)"
  header += "), }";
  // Pad with spaces so the data starts 64-byte aligned; the header ends with '\n'.
  const size_t total = (10 + header.size() + 1 + 63) / 64 * 64;
  header.append(total - 10 - header.size() - 1, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(reinterpret_cast<const char*>(t.data()), static_cast<size_t>(t.numel()) * 4);
  return out;
}

namespace {

std::string read_whole(const std::string& path) {
  std::vector<uint8_t> b = read_file_bytes(path, kMaxTensorFileBytes);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

bool ends_with_npy(const std::string& path) {
  return path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0;
}

}  // namespace

HostTensor read_tensor_pb(const std::string& path) {
  return read_tensor_pb_from_bytes(read_whole(path), path);
}

HostTensor read_npy(const std::string& path) { return read_npy_from_bytes(read_whole(path), path); }

HostTensor read_tensor_file(const std::string& path) {
  return ends_with_npy(path) ? read_npy(path) : read_tensor_pb(path);
}

void write_tensor_file(const std::string& path, const Tensor& t, const std::string& name) {
  std::string bytes;
  if (ends_with_npy(path)) {
    bytes = npy_bytes(t);
  } else if (!tensor_to_proto(t, name).SerializeToString(&bytes)) {
    fail("{}: cannot serialize tensor {} as a TensorProto", path, dims_to_string(t.dims()));
  }
  write_file_atomic(path, bytes);
}

}  // namespace xcept

#include "io/onnx/onnx_builder.h"

#include <bit>

#include "core/error.h"
#include "runtime/op.h"

namespace xcept::onnx_export {

static_assert(std::endian::native == std::endian::little,
              "ONNX raw_data is little-endian; values are copied as they are in memory");

void set_int(onnx::NodeProto* n, const char* name, int64_t v) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

void set_float(onnx::NodeProto* n, const char* name, float v) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

void set_ints(onnx::NodeProto* n, const char* name, const std::vector<int64_t>& v) {
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

std::string Builder::unique(const std::string& base) {
  std::string name = base;
  for (int i = 1; used_.count(name); ++i) name = base + "_" + std::to_string(i);
  used_.insert(name);
  return name;
}

onnx::NodeProto* Builder::node(const char* op, const std::vector<std::string>& inputs,
                               const std::string& output) {
  onnx::NodeProto* n = g_->add_node();
  n->set_op_type(op);
  n->set_name(output);
  for (const std::string& in : inputs) n->add_input(in);
  n->add_output(output);
  return n;
}

onnx::TensorProto* Builder::initializer(const std::string& base, int type, const Dims& dims) {
  onnx::TensorProto* t = g_->add_initializer();
  t->set_name(unique(base));
  t->set_data_type(type);
  for (int64_t d : dims) t->add_dims(d);
  return t;
}

std::string Builder::floats(const std::string& base, const Dims& dims, const float* data) {
  onnx::TensorProto* t = initializer(base, onnx::TensorProto::FLOAT, dims);
  t->set_raw_data(data, size_t(numel_of(dims)) * sizeof(float));
  return t->name();
}

std::string Builder::int64s(const std::string& base, const std::vector<int64_t>& v) {
  onnx::TensorProto* t = initializer(base, onnx::TensorProto::INT64, {int64_t(v.size())});
  t->set_raw_data(v.data(), v.size() * sizeof(int64_t));
  return t->name();
}

std::string Builder::int32s(const std::string& base, const Dims& dims, const int32_t* data) {
  onnx::TensorProto* t = initializer(base, onnx::TensorProto::INT32, dims);
  t->set_raw_data(data, size_t(numel_of(dims)) * sizeof(int32_t));
  return t->name();
}

std::string Builder::int8s(const std::string& base, const Dims& dims, const int8_t* data) {
  onnx::TensorProto* t = initializer(base, onnx::TensorProto::INT8, dims);
  t->set_raw_data(data, size_t(numel_of(dims)));
  return t->name();
}

std::string Builder::uint8s(const std::string& base, const Dims& dims, const uint8_t* data) {
  onnx::TensorProto* t = initializer(base, onnx::TensorProto::UINT8, dims);
  t->set_raw_data(data, size_t(numel_of(dims)));
  return t->name();
}

const std::vector<std::string>& Builder::relu6_bounds() {
  if (relu6_.empty()) {
    const float lo = 0.f, hi = 6.f;
    relu6_ = {floats("relu6_min", {}, &lo), floats("relu6_max", {}, &hi)};
  }
  return relu6_;
}

std::vector<float> hwio_to_oihw(const Tensor& w) {
  const int64_t kh = w.dim(0), kw = w.dim(1), cg = w.dim(2), m = w.dim(3);
  std::vector<float> out(size_t(w.numel()));
  for (int64_t y = 0; y < kh; ++y)
    for (int64_t x = 0; x < kw; ++x)
      for (int64_t i = 0; i < cg; ++i)
        for (int64_t o = 0; o < m; ++o)
          out[size_t(((o * cg + i) * kh + y) * kw + x)] = w[((y * kw + x) * cg + i) * m + o];
  return out;
}

void set_io(onnx::ValueInfoProto* v, const std::string& name, const Dims& per_image) {
  v->set_name(name);
  onnx::TypeProto_Tensor* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  onnx::TensorShapeProto* shape = t->mutable_shape();
  shape->add_dim()->set_dim_param("batch");
  Dims d = per_image;
  if (d.size() == 3) d = {per_image[2], per_image[0], per_image[1]};  // HWC -> CHW
  for (int64_t x : d) shape->add_dim()->set_dim_value(x);
}

void rename_value(onnx::GraphProto* g, const std::string& from, const std::string& to) {
  for (onnx::NodeProto& n : *g->mutable_node()) {
    for (std::string& s : *n.mutable_input())
      if (s == from) s = to;
    for (std::string& s : *n.mutable_output())
      if (s == from) s = to, n.set_name(to);
  }
}

onnx::ModelProto new_model(const OnnxExportOptions& options) {
  onnx::ModelProto model;
  model.set_ir_version(kOnnxExportIrVersion);
  model.set_producer_name("xcept");
  model.set_model_version(1);
  if (!options.doc.empty()) model.set_doc_string(options.doc);
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxExportOpset);
  for (const auto& [key, value] : options.metadata) {
    onnx::StringStringEntryProto* e = model.add_metadata_props();
    e->set_key(key);
    e->set_value(value);
  }
  return model;
}

void check_io_names(const std::string& model, const OnnxExportOptions& options) {
  if (options.input_name.empty() || options.output_name.empty() ||
      options.input_name == options.output_name)
    fail("ONNX export of '{}': input and output names must be distinct and non-empty ('{}', "
         "'{}')",
         model, options.input_name, options.output_name);
}

}  // namespace xcept::onnx_export

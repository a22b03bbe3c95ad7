// Hand-built ONNX graphs for tests: inputs, initializers, nodes with attributes.
#pragma once

#include <string>
#include <vector>

#include "io/onnx/onnx_tensor.h"
#include "onnx/onnx_pb.h"

namespace xcept::test {

class OnnxGraphBuilder {
 public:
  explicit OnnxGraphBuilder(int64_t opset) {
    model_.set_ir_version(8);
    auto* o = model_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
  }
  onnx::GraphProto& graph() { return *model_.mutable_graph(); }
  const onnx::ModelProto& model() const { return model_; }

  void input(const std::string& name, const Dims& dims, int32_t type = onnx::TensorProto::FLOAT) {
    auto* vi = graph().add_input();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
  void output(const std::string& name) { graph().add_output()->set_name(name); }
  void init(const std::string& name, const Tensor& t) {
    *graph().add_initializer() = tensor_to_proto(t, name);
  }
  void init_i64(const std::string& name, const Dims& dims, const std::vector<int64_t>& v) {
    auto* t = graph().add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    for (int64_t d : dims) t->add_dims(d);
    for (int64_t x : v) t->add_int64_data(x);
  }
  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& ins,
                        const std::vector<std::string>& outs, const std::string& name = {}) {
    auto* n = graph().add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : ins) n->add_input(i);
    for (const auto& o : outs) n->add_output(o);
    return *n;
  }
  static void attr_i(onnx::NodeProto& n, const std::string& name, int64_t v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr_ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }

 private:
  onnx::ModelProto model_;
};

}  // namespace xcept::test

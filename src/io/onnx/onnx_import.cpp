// The ONNX importer's driver: graph checks (dangling inputs, duplicate outputs, cycles),
// initializers and inputs, values and their layouts, constant folding. The operators are
// in onnx_import_ops.cpp.
#include <algorithm>
#include <cmath>
#include <set>

#include "core/checked_math.h"
#include "io/onnx/onnx_importer.h"
#include "io/onnx/onnx_model.h"
#include "runtime/ops/tensor_ops.h"
#include "onnx/onnx_pb.h"

namespace xcept {

namespace onnx_import {

int64_t dims_numel(const Dims& d) {
  int64_t n = 1;
  for (int64_t x : d) n = checked_mul(n, x, "tensor " + dims_to_string(d));
  return n;
}

Dims permute_dims(const Dims& d, const std::vector<int>& perm) {
  Dims r(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) r[i] = d.at(static_cast<size_t>(perm[i]));
  return r;
}

Tensor permute(const Tensor& t, const std::vector<int>& perm) {
  TransposeOp op(perm);
  Dims od = op.output_dims("permute", std::span<const Dims>(&t.dims(), 1));
  Tensor out(od);
  ConstView in{t.data(), &t.dims()};
  op.run(std::span<const ConstView>(&in, 1), MutView{out.data(), &out.dims()});
  return out;
}

Importer::Importer(const onnx::ModelProto& model, const std::vector<OnnxInput>& inputs,
                   const OnnxImportOptions& options)
    : model_(model), options_(options) {
  opset = onnx_default_opset(model);
  const auto& g = model.graph();
  const std::string& mn = options.model_name;
  for (const auto& t : g.initializer()) {
    if (t.name().empty()) fail("{}: an initializer has no name", mn);
    if (vals_.count(t.name())) fail("{}: initializer '{}' is defined twice", mn, t.name());
    Val v;
    v.name = t.name();
    v.constant = tensor_from_proto(t, fmt::format("{}: initializer '{}'", mn, t.name()),
                                   options.base_dir);
    v.dims = v.constant->dims;
    vals_[t.name()] = std::move(v);
  }
  size_t k = 0;
  for (const auto& gi : g.input()) {
    if (vals_.count(gi.name())) continue;  // an initializer (IR < 4 lists them as inputs)
    if (k >= inputs.size())
      fail("{}: the model has more inputs than the {} given (input '{}')", mn, inputs.size(),
           gi.name());
    const OnnxInput& given = inputs[k++];
    // The declared shape must agree where it names a size.
    if (gi.type().has_tensor_type() && gi.type().tensor_type().has_shape()) {
      const auto& shp = gi.type().tensor_type().shape();
      bool ok = shp.dim_size() == static_cast<int>(given.dims.size());
      for (int i = 0; ok && i < shp.dim_size(); ++i)
        if (shp.dim(i).has_dim_value() && shp.dim(i).dim_value() != given.dims[size_t(i)])
          ok = false;
      if (!ok) {
        std::string decl;
        for (int i = 0; i < shp.dim_size(); ++i)
          decl += (i ? "x" : "") + (shp.dim(i).has_dim_value()
                                        ? std::to_string(shp.dim(i).dim_value())
                                        : (shp.dim(i).dim_param().empty() ? std::string("?")
                                                                          : shp.dim(i).dim_param()));
        fail("{}: input '{}' declared {} but given {}", mn, gi.name(), decl,
             dims_to_string(given.dims));
      }
    }
    int32_t et = gi.type().has_tensor_type() ? gi.type().tensor_type().elem_type()
                                             : onnx::TensorProto::FLOAT;
    Val v;
    v.name = gi.name();
    v.dims = given.dims;
    if (given.value) {
      if (given.value->dims != given.dims)
        fail("{}: input '{}' given dims {} but its value has {}", mn, gi.name(),
             dims_to_string(given.dims), dims_to_string(given.value->dims));
      v.constant = *given.value;
    }
    if (et == onnx::TensorProto::FLOAT) {
      if (v.constant && !v.constant->is_f32())
        fail("{}: input '{}' is float but was given integers", mn, gi.name());
      v.nchw = program.add_input(gi.name(), given.dims);
    } else if (et == onnx::TensorProto::INT64 || et == onnx::TensorProto::INT32) {
      if (!given.value)
        throw OnnxUnsupported(fmt::format(
            "{}: integer input '{}' must be given a value (integer inputs are constants)", mn,
            gi.name()));
    } else {
      throw OnnxUnsupported(fmt::format("{}: input '{}' has data type {}; only float inputs "
                                        "(and integer constants) are supported",
                                        mn, gi.name(), et));
    }
    vals_[gi.name()] = std::move(v);
  }
  if (k != inputs.size())
    fail("{}: {} inputs given but the model has {}", mn, inputs.size(), k);
}

std::string Importer::step_name() const {
  if (!node) return "?";
  return node->name().empty() ? (node->output_size() ? node->output(0) : node->op_type())
                              : node->name();
}

std::string Importer::where() const {
  return fmt::format("{}: node '{}' ({})", options_.model_name, step_name(),
                     node ? node->op_type() : "");
}

void Importer::unsupported(const std::string& what) const {
  throw OnnxUnsupported(where() + ": " + what + " is not supported");
}

int Importer::num_inputs() const { return node->input_size(); }
bool Importer::has_input(int i) const { return i < node->input_size() && !node->input(i).empty(); }

Val& Importer::in(int i) {
  if (!has_input(i)) bad("input {} is missing", i);
  auto it = vals_.find(node->input(i));
  if (it == vals_.end()) bad("input '{}' is not defined", node->input(i));
  return it->second;
}

const HostTensor& Importer::const_in(int i, const char* slot) {
  Val& v = in(i);
  if (!v.constant)
    unsupported(fmt::format("{} '{}' computed at run time ({} must be a constant: an "
                            "initializer, a Constant node or constant shape arithmetic)",
                            slot, node->input(i), slot));
  return *v.constant;
}

std::vector<int64_t> Importer::const_ints(int i, const char* slot) {
  const HostTensor& t = const_in(i, slot);
  if (t.is_f32()) bad("{} '{}' must be an integer tensor", slot, node->input(i));
  return t.i64;
}

void Importer::set_out(int i, Val v) {
  if (i >= node->output_size() || node->output(i).empty()) return;
  v.name = node->output(i);
  vals_[node->output(i)] = std::move(v);
}

bool Importer::output_used(int i) const {
  if (i >= node->output_size() || node->output(i).empty()) return false;
  auto it = uses_.find(node->output(i));
  return it != uses_.end() && it->second > 0;
}

const onnx::AttributeProto* Importer::attr(const char* name) const {
  for (const auto& a : node->attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
int64_t Importer::attr_i(const char* name, int64_t def) const {
  const auto* a = attr(name);
  return a ? a->i() : def;
}
float Importer::attr_f(const char* name, float def) const {
  const auto* a = attr(name);
  return a ? a->f() : def;
}
std::string Importer::attr_s(const char* name, const std::string& def) const {
  const auto* a = attr(name);
  return a ? a->s() : def;
}
std::optional<std::vector<int64_t>> Importer::attr_ints(const char* name) const {
  const auto* a = attr(name);
  if (!a) return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}
std::optional<std::vector<float>> Importer::attr_floats(const char* name) const {
  const auto* a = attr(name);
  if (!a) return std::nullopt;
  return std::vector<float>(a->floats().begin(), a->floats().end());
}

Val Importer::constant(HostTensor t) const {
  Val v;
  v.dims = t.dims;
  v.constant = std::move(t);
  return v;
}

ValueId Importer::get(Val& v, Layout l) {
  if (l == Layout::nhwc && v.dims.size() != 4)
    fail("{}: internal error: NHWC requested for {} value '{}'", where(),
         dims_to_string(v.dims), v.name);
  ValueId& want = l == Layout::nchw ? v.nchw : v.nhwc;
  if (want >= 0) return want;
  const ValueId other = l == Layout::nchw ? v.nhwc : v.nchw;
  if (other >= 0) {
    want = program.add_step(fmt::format("{}/{}", v.name, l == Layout::nchw ? "to_nchw" : "to_nhwc"),
                            std::make_unique<TransposeOp>(l == Layout::nchw ? kToNchw : kToNhwc),
                            {other});
    record_range(v);
    return want;
  }
  if (!v.constant) fail("{}: internal error: value '{}' has no data", where(), v.name);
  if (!v.constant->is_f32())
    unsupported(fmt::format("integer tensor '{}' used as float data", v.name));
  const std::string nm = v.name.empty() ? step_name() + "/const" : v.name;
  want = program.add_constant(l == Layout::nchw ? nm : nm + "/nhwc",
                              l == Layout::nchw ? v.constant->f32 : permute(v.constant->f32, kToNhwc));
  return want;
}

void Importer::record_range(const Val& v) {
  if (!v.range || !options_.value_ranges) return;
  for (ValueId id : {v.nchw, v.nhwc})
    if (id >= 0) (*options_.value_ranges)[id] = *v.range;
}

HostTensor Importer::fold(Op& op, const std::vector<Val*>& ins) {
  std::vector<Dims> dims;
  bool any_int = false;
  for (Val* v : ins) {
    dims.push_back(v->constant->dims);
    any_int |= !v->constant->is_f32();
  }
  Dims out = op.output_dims(step_name(), dims);
  // A constant is held in memory at import time; refuse what a model could only mean as
  // a memory bomb.
  if (dims_numel(out) > (int64_t{1} << 28))
    unsupported(fmt::format("folding a constant of {} elements", dims_to_string(out)));
  Tensor y(out);
  std::vector<ConstView> views;
  if (!any_int) {
    for (Val* v : ins) views.push_back({v->constant->f32.data(), &v->constant->f32.dims()});
    op.run(views, {y.data(), &y.dims()});
    return HostTensor::from_f32(std::move(y));
  }
  // Integer data through a float op that only moves elements: run it on element numbers
  // (exact in float below 2^24) and map them back.
  std::vector<int64_t> all;
  std::vector<Tensor> idx;
  for (Val* v : ins) {
    if (v->constant->is_f32()) bad("mixes float and integer inputs");
    Tensor t(v->constant->dims);
    for (int64_t j = 0; j < t.numel(); ++j) t[j] = static_cast<float>(all.size() + j + 1);
    all.insert(all.end(), v->constant->i64.begin(), v->constant->i64.end());
    if (all.size() >= (size_t{1} << 24)) unsupported("folding an integer tensor this large");
    idx.push_back(std::move(t));
  }
  for (const Tensor& t : idx) views.push_back({t.data(), &t.dims()});
  op.run(views, {y.data(), &y.dims()});
  std::vector<int64_t> r(static_cast<size_t>(y.numel()));
  for (int64_t j = 0; j < y.numel(); ++j) {
    const int64_t k = std::llround(y[j]) - 1;
    r[static_cast<size_t>(j)] = k >= 0 ? all[static_cast<size_t>(k)] : 0;
  }
  return HostTensor::from_i64(out, std::move(r));
}

Val Importer::emit(std::unique_ptr<Op> op, std::vector<Val*> ins, Layout l,
                   const std::string& suffix, bool allow_fold) {
  if (allow_fold && std::all_of(ins.begin(), ins.end(), [](Val* v) { return v->pure_constant(); }))
    return constant(fold(*op, ins));
  std::vector<ValueId> ids;
  for (Val* v : ins) ids.push_back(get(*v, l));
  const ValueId o = program.add_step(step_name() + suffix, std::move(op), std::move(ids));
  Val r;
  r.name = step_name() + suffix;
  const Dims& pd = program.value(o).dims;
  // 2^31 floats (8 GiB) in one value is no model this engine runs; refuse it here rather
  // than let the executor try to allocate it.
  if (dims_numel(pd) > (int64_t{1} << 31))
    bad("output {} is too large ({} elements)", dims_to_string(pd), dims_numel(pd));
  if (l == Layout::nhwc) {
    r.dims = permute_dims(pd, kToNchw);
    r.nhwc = o;
  } else {
    r.dims = pd;
    r.nchw = o;
  }
  return r;
}

Val Importer::reshape(Val& v, const Dims& dims) {
  if (dims_numel(dims) != dims_numel(v.dims))
    bad("cannot reshape '{}' of {} to {}", v.name, dims_to_string(v.dims), dims_to_string(dims));
  if (v.pure_constant()) {
    HostTensor t = *v.constant;
    t.dims = dims;
    if (t.is_f32()) {
      Tensor f(dims);
      if (f.numel()) std::copy_n(v.constant->f32.data(), f.numel(), f.data());
      t.f32 = std::move(f);
    }
    return constant(std::move(t));
  }
  if (dims == v.dims && v.nchw >= 0) return v;
  ValueId src;
  // NHWC holds the NCHW element order when there is one channel or one pixel.
  if (v.nchw < 0 && (v.dims[1] == 1 || v.dims[2] * v.dims[3] == 1)) src = v.nhwc;
  else src = get(v, Layout::nchw);
  const ValueId o = program.add_step(step_name(), std::make_unique<ReshapeOp>(dims), {src});
  Val r;
  r.name = step_name();
  r.dims = dims;
  r.nchw = o;
  return r;
}

Program Importer::run() {
  const auto& g = model_.graph();
  const std::string& mn = options_.model_name;
  // Who produces each value: one producer per name, and no redefinition of an input.
  std::map<std::string, int> producer;
  for (int i = 0; i < g.node_size(); ++i)
    for (const auto& o : g.node(i).output()) {
      if (o.empty()) continue;
      if (vals_.count(o))
        fail("{}: node '{}' ({}) writes '{}', which is already a graph input or initializer", mn,
             g.node(i).name(), g.node(i).op_type(), o);
      if (!producer.emplace(o, i).second)
        fail("{}: value '{}' is produced by two nodes ('{}' and '{}')", mn, o,
             g.node(producer[o]).name(), g.node(i).name());
    }
  for (const auto& o : g.output()) {
    if (!producer.count(o.name()) && !vals_.count(o.name()))
      fail("{}: graph output '{}' is not produced by any node", mn, o.name());
    uses_[o.name()]++;
  }
  // Depth-first from the outputs, iteratively: the nodes needed, in dependency order.
  std::vector<int> state(static_cast<size_t>(g.node_size()), 0);  // 0 new, 1 open, 2 done
  std::vector<int> order;
  for (const auto& go : g.output()) {
    auto pit = producer.find(go.name());
    if (pit == producer.end()) continue;
    std::vector<std::pair<int, int>> stack;  // node, next input to visit
    if (state[size_t(pit->second)] == 0) {
      stack.push_back({pit->second, 0});
      state[size_t(pit->second)] = 1;
    }
    while (!stack.empty()) {
      auto& [n, next] = stack.back();
      const auto& nd = g.node(n);
      if (next < nd.input_size()) {
        const std::string& name = nd.input(next++);
        if (name.empty() || vals_.count(name)) continue;
        auto it = producer.find(name);
        if (it == producer.end())
          fail("{}: node '{}' ({}) reads '{}', which no node, initializer or graph input "
               "defines",
               mn, nd.name(), nd.op_type(), name);
        const int p = it->second;
        if (state[size_t(p)] == 1)
          fail("{}: the graph has a cycle: node '{}' ({}) depends on its own output '{}'", mn,
               g.node(p).name(), g.node(p).op_type(), name);
        if (state[size_t(p)] == 0) {
          state[size_t(p)] = 1;
          stack.push_back({p, 0});
        }
        continue;
      }
      state[size_t(n)] = 2;
      order.push_back(n);
      stack.pop_back();
    }
  }
  for (int n : order)
    for (const auto& i : g.node(n).input())
      if (!i.empty()) uses_[i]++;

  std::set<std::string> params_left;  // float initializers no reported node has read yet
  for (const auto& t : g.initializer())
    if (vals_.at(t.name()).constant->is_f32()) params_left.insert(t.name());
  for (int n : order) {
    node = &g.node(n);
    if (!node->domain().empty() && node->domain() != "ai.onnx")
      unsupported(fmt::format("operator domain '{}'", node->domain()));
    const size_t first_step = program.steps().size();
    if (!import_node(*this, *node)) unsupported("operator " + node->op_type());
    for (int i = 0; i < node->output_size(); ++i)
      if (output_used(i) && !vals_.count(node->output(i)))
        unsupported(fmt::format("output {} ('{}')", i, node->output(i)));
    if (options_.node_report) {
      OnnxNodeReport r{step_name(), node->op_type(), {}, 0, 0, first_step,
                       program.steps().size(), false};
      if (node->output_size() && vals_.count(node->output(0))) {
        r.output = vals_.at(node->output(0)).dims;
        r.folded = vals_.at(node->output(0)).pure_constant();
      }
      for (int k = 0; k < node->input_size(); ++k) {
        if (!params_left.erase(node->input(k))) continue;
        const int64_t n = vals_.at(node->input(k)).constant->numel();
        r.params += n;
        // Running mean and variance (inputs 3 and 4) are statistics, not trained.
        if (node->op_type() != "BatchNormalization" || k < 3) r.params_trainable += n;
      }
      options_.node_report->push_back(std::move(r));
    }
  }
  node = nullptr;
  for (const auto& go : g.output()) {
    Val& v = vals_.at(go.name());
    if (v.constant && !v.constant->is_f32())
      throw OnnxUnsupported(
          fmt::format("{}: graph output '{}' is an integer tensor", mn, go.name()));
    program.mark_output(get(v, Layout::nchw));
  }
  return std::move(program);
}

}  // namespace onnx_import

Program import_onnx(const onnx::ModelProto& model, const std::vector<OnnxInput>& inputs,
                    const OnnxImportOptions& options) {
  if (onnx_has_qoperators(model)) {
    const onnx::ModelProto qdq = qoperators_as_qdq(model, options.model_name);
    onnx_import::Importer im(qdq, inputs, options);
    return im.run();
  }
  onnx_import::Importer im(model, inputs, options);
  return im.run();
}

Program import_onnx(const onnx::ModelProto& model, const std::vector<HostTensor>& inputs,
                    const OnnxImportOptions& options) {
  std::vector<OnnxInput> in;
  for (const HostTensor& t : inputs) in.push_back({t.dims, &t});
  return import_onnx(model, in, options);
}

std::vector<std::string> onnx_graph_input_names(const onnx::ModelProto& model) {
  std::set<std::string> init;
  for (const auto& t : model.graph().initializer()) init.insert(t.name());
  std::vector<std::string> r;
  for (const auto& gi : model.graph().input())
    if (!init.count(gi.name())) r.push_back(gi.name());
  return r;
}

std::vector<std::string> onnx_graph_output_names(const onnx::ModelProto& model) {
  std::vector<std::string> r;
  for (const auto& go : model.graph().output()) r.push_back(go.name());
  return r;
}

std::vector<Dims> onnx_declared_input_dims(const onnx::ModelProto& model, int64_t batch,
                                           const std::string& model_name) {
  std::set<std::string> init;
  for (const auto& t : model.graph().initializer()) init.insert(t.name());
  std::vector<Dims> r;
  for (const auto& gi : model.graph().input()) {
    if (init.count(gi.name())) continue;
    if (!gi.type().has_tensor_type() || !gi.type().tensor_type().has_shape())
      fail("{}: input '{}' declares no shape; give its dims", model_name, gi.name());
    const auto& shp = gi.type().tensor_type().shape();
    Dims d;
    for (int i = 0; i < shp.dim_size(); ++i) {
      if (shp.dim(i).has_dim_value() && shp.dim(i).dim_value() > 0) {
        d.push_back(shp.dim(i).dim_value());
      } else if (i == 0) {
        d.push_back(batch);  // the batch
      } else {
        fail("{}: input '{}' axis {} is symbolic ('{}'); give the input's dims", model_name,
             gi.name(), i, shp.dim(i).dim_param());
      }
    }
    r.push_back(std::move(d));
  }
  return r;
}

std::string onnx_metadata(const onnx::ModelProto& model, const std::string& key) {
  for (const auto& e : model.metadata_props())
    if (e.key() == key) return e.value();
  return {};
}

}  // namespace xcept

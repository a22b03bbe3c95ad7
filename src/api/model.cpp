// The Model facade: a ModelSource compiled for one batch size at a time.
#include <algorithm>
#include <cmath>
#include <optional>

#include "api/model_source.h"
#include "api/network_impl.h"
#include "core/error.h"
#include "layers/layer_checks.h"  // dims_numel
#include "runtime/ops/tensor_ops.h"
#include "xcept/model.h"

namespace xcept {

struct Model::Impl {
  ModelSource source;
  LoadOptions options;
  Normalization normalization;  // what run() applies
  std::optional<Executor> ex;
  int64_t batch = 0;
  std::vector<Dims> in_dims, out_dims;
  Tensor staging_in, staging_out;  // layout conversions

  void compile(int64_t b) {
    CompileOptions co;
    co.executor.precision = options.precision;
    co.optimize = options.optimize;
    co.normalization = normalization;
    ex.reset();  // the old plan's arena goes before the new one is made
    ex.emplace(xcept::compile(source, b, co));
    batch = b;
    const Program& p = ex->program();
    in_dims.clear();
    out_dims.clear();
    for (ValueId v : p.inputs()) in_dims.push_back(p.value(v).dims);
    for (ValueId v : p.outputs()) out_dims.push_back(p.value(v).dims);
  }

  static std::unique_ptr<Impl> make(ModelSource source, const LoadOptions& options, int64_t batch) {
    auto m = std::make_unique<Impl>();
    m->source = std::move(source);
    m->options = options;
    if (options.normalize)
      m->normalization = options.normalization.empty() ? m->source.normalization : options.normalization;
    m->compile(batch);
    return m;
  }
};

namespace {

Dims per_image(const Dims& d) { return d.empty() ? d : Dims(d.begin() + 1, d.end()); }

const std::vector<int> kNchwToNhwc = {0, 2, 3, 1}, kNhwcToNchw = {0, 3, 1, 2};

// Dims of a 4-D tensor in the other layout.
Dims relayout(const Dims& d, const std::vector<int>& perm) {
  return {d[size_t(perm[0])], d[size_t(perm[1])], d[size_t(perm[2])], d[size_t(perm[3])]};
}

void transpose(const float* x, const Dims& x_dims, float* y, const std::vector<int>& perm) {
  const TransposeOp op(perm);
  const Dims y_dims = relayout(x_dims, perm);
  const ConstView in{x, &x_dims};
  op.run(std::span<const ConstView>(&in, 1), MutView{y, &y_dims});
}

}  // namespace

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

Model Model::from_onnx(const std::string& path, const std::vector<Dims>& input_dims,
                       const LoadOptions& options) {
  if (source_kind(path) != SourceKind::onnx) fail("{}: an ONNX file must end in .onnx", path);
  ModelSource s = load_model_source(path, {}, input_dims, options.batch);
  const int64_t batch = s.onnx_dims.empty() || s.onnx_dims[0].empty() ? 1 : s.onnx_dims[0][0];
  return Model(Impl::make(std::move(s), options, batch));
}

Model Model::from_checkpoint(const std::string& path, const LoadOptions& options) {
  if (source_kind(path) != SourceKind::checkpoint)
    fail("{}: not a checkpoint file", path);
  return Model(Impl::make(load_model_source(path), options, options.batch > 0 ? options.batch : 1));
}

Model Model::from_network(Network& network, const LoadOptions& options) {
  return Model(Impl::make(model_source_of(network.impl().graph), options,
                          options.batch > 0 ? options.batch : 1));
}

const std::string& Model::name() const { return impl_->source.name; }
Layout Model::layout() const { return impl_->source.layout(); }
size_t Model::num_inputs() const { return impl_->in_dims.size(); }
size_t Model::num_outputs() const { return impl_->out_dims.size(); }
const std::string& Model::input_name(size_t i) const { return impl_->source.input_names.at(i); }
const std::string& Model::output_name(size_t i) const { return impl_->source.output_names.at(i); }
const Dims& Model::input_dims(size_t i) const { return impl_->in_dims.at(i); }
const Dims& Model::output_dims(size_t i) const { return impl_->out_dims.at(i); }
int64_t Model::batch() const { return impl_->batch; }
// Per image: all but the batch dimension.
int64_t Model::input_numel(size_t i) const { return dims_numel(per_image(input_dims(i))); }
int64_t Model::output_numel(size_t i) const { return dims_numel(per_image(output_dims(i))); }
const Normalization& Model::normalization() const { return impl_->normalization; }
const std::vector<std::string>& Model::class_names() const { return impl_->source.class_names; }
Precision Model::precision() const { return impl_->ex->precision(); }
int64_t Model::macs() const { return impl_->ex->program().macs(); }

void Model::set_batch(int64_t batch) {
  if (batch <= 0) fail("{}: batch must be positive, got {}", name(), batch);
  if (impl_->source.fixed_batch > 0 && batch != impl_->source.fixed_batch)
    fail("{}: the file fixes the batch at {}", name(), impl_->source.fixed_batch);
  if (batch != impl_->batch) impl_->compile(batch);
}

void Model::run(std::span<const float> input, std::span<float> output) {
  run(input, output, layout());
}

void Model::run(std::span<const float> input, std::span<float> output, Layout layout) {
  Impl& m = *impl_;
  if (num_inputs() != 1 || num_outputs() != 1)
    fail("{}: the model has {} inputs and {} outputs; run it with one buffer for each", name(),
         num_inputs(), num_outputs());
  const int64_t per_in = input_numel(), per_out = output_numel();
  const int64_t batch = per_in > 0 ? int64_t(input.size()) / per_in : 0;
  if (batch <= 0 || int64_t(input.size()) != batch * per_in)
    fail("{}: the input holds {} floats, not a whole number of images of {} ({})", name(),
         input.size(), per_in, dims_to_string(Dims(input_dims().begin() + 1, input_dims().end())));
  if (int64_t(output.size()) != batch * per_out)
    fail("{}: the output buffer holds {} floats; {} image(s) give {}", name(), output.size(),
         batch, batch * per_out);
  // A file that fixes its batch runs a larger one chunk by chunk.
  const int64_t fixed = m.source.fixed_batch;
  if (fixed > 0 && batch != fixed) {
    if (batch % fixed)
      fail("{}: the file fixes the batch at {}; {} image(s) given", name(), fixed, batch);
    for (int64_t b = 0; b < batch; b += fixed)
      run(input.subspan(size_t(b * per_in), size_t(fixed * per_in)),
          output.subspan(size_t(b * per_out), size_t(fixed * per_out)), layout);
    return;
  }
  set_batch(batch);
  const Dims& in_dims = m.in_dims[0];
  const Dims& out_dims = m.out_dims[0];
  const bool convert = layout != this->layout();
  if (convert && in_dims.size() != 4)
    fail("{}: the input is {}, not an image batch: it has no {} layout", name(),
         dims_to_string(in_dims), layout == Layout::nchw ? "NCHW" : "NHWC");
  // To the model's layout (and back for image-shaped outputs).
  const std::vector<int>& to_model = layout == Layout::nchw ? kNchwToNhwc : kNhwcToNchw;
  const std::vector<int>& to_caller = layout == Layout::nchw ? kNhwcToNchw : kNchwToNhwc;
  const float* x = input.data();
  if (convert) {
    ensure_dims(m.staging_in, in_dims);
    transpose(x, relayout(in_dims, to_caller), m.staging_in.data(), to_model);
    x = m.staging_in.data();
  }
  const bool convert_out = convert && out_dims.size() == 4;
  float* y = output.data();
  if (convert_out) {
    ensure_dims(m.staging_out, out_dims);
    y = m.staging_out.data();
  }
  const ConstView in{x, &in_dims};
  const MutView out{y, &out_dims};
  m.ex->run(std::span<const ConstView>(&in, 1), std::span<const MutView>(&out, 1));
  if (convert_out) transpose(y, out_dims, output.data(), to_caller);
}

void Model::run(const std::vector<std::span<const float>>& inputs,
                const std::vector<std::span<float>>& outputs) {
  Impl& m = *impl_;
  if (inputs.size() != num_inputs() || outputs.size() != num_outputs())
    fail("{}: the model has {} input(s) and {} output(s); {} and {} buffer(s) given", name(),
         num_inputs(), num_outputs(), inputs.size(), outputs.size());
  std::vector<ConstView> in;
  std::vector<MutView> out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (int64_t(inputs[i].size()) != dims_numel(m.in_dims[i]))
      fail("{}: input '{}' is {} ({} floats); {} given", name(), input_name(i),
           dims_to_string(m.in_dims[i]), dims_numel(m.in_dims[i]), inputs[i].size());
    in.push_back({inputs[i].data(), &m.in_dims[i]});
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (int64_t(outputs[i].size()) != dims_numel(m.out_dims[i]))
      fail("{}: output '{}' is {} ({} floats); a buffer of {} given", name(), output_name(i),
           dims_to_string(m.out_dims[i]), dims_numel(m.out_dims[i]), outputs[i].size());
    out.push_back({outputs[i].data(), &m.out_dims[i]});
  }
  m.ex->run(in, out);
}

std::vector<ClassScore> top_k(std::span<const float> row, int64_t k) {
  const size_t n = row.size();
  std::vector<float> p(row.begin(), row.end());
  float sum = 0, lo = 0, hi = 0;
  for (float v : p) sum += v, lo = std::min(lo, v), hi = std::max(hi, v);
  const bool probabilities = n > 0 && lo >= 0 && hi <= 1 && std::fabs(sum - 1) < 1e-3f;
  if (!probabilities && n > 0) {  // softmax, shifted by the max for range
    const float mx = *std::max_element(p.begin(), p.end());
    double total = 0;
    for (float& v : p) total += (v = std::exp(v - mx));
    for (float& v : p) v = float(v / total);
  }
  std::vector<ClassScore> all;
  for (size_t i = 0; i < n; ++i) all.push_back({int64_t(i), p[i]});
  const size_t keep = std::min(n, size_t(std::max<int64_t>(k, 0)));
  std::partial_sort(all.begin(), all.begin() + std::ptrdiff_t(keep), all.end(),
                    [](const ClassScore& a, const ClassScore& b) {
                      return a.probability > b.probability ||
                             (a.probability == b.probability && a.index < b.index);
                    });
  all.resize(keep);
  return all;
}

}  // namespace xcept

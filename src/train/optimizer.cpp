#include "train/optimizer.h"

#include <cmath>
#include <set>

#include "core/error.h"
#include "core/threadpool.h"

namespace xcept {

namespace {

constexpr const char* kStepName = "@step";
// The step count travels as two float32s, each an integer below 2^24 and so exact.
constexpr int64_t kStepRadix = int64_t{1} << 24;
// Updates are memory-bound; below this many elements a thread hand-off costs more.
constexpr int64_t kParallelGrain = int64_t{1} << 15;

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& e : v) s += (s.empty() ? "" : ", ") + e;
  return s.empty() ? "none" : s;
}

void check_range(const char* opt, const char* field, double v, double lo, double hi, bool hi_open) {
  if (!std::isfinite(v) || v < lo || (hi_open ? v >= hi : v > hi))
    fail("optimizer {}: {} = {} is outside [{}, {}{}", opt, field, v, lo, hi, hi_open ? ")" : "]");
}

}  // namespace

Optimizer::Optimizer(std::vector<std::string> slot_names, std::vector<float> slot_init)
    : slot_names_(std::move(slot_names)), slot_init_(std::move(slot_init)) {}

void Optimizer::step(const ParamList& params, double lr) {
  if (!std::isfinite(lr) || lr < 0) fail("optimizer {}: learning rate {} is not >= 0", name(), lr);
  // Validate everything first so a bad list never leaves the model half-updated.
  std::set<std::string_view> seen;
  for (const ParamRef& p : params) {
    if (!p.trainable()) continue;
    if (!p.value) fail("optimizer {}: parameter '{}' has no value tensor", name(), p.name);
    if (!seen.insert(p.name).second)
      fail("optimizer {}: parameter name '{}' appears twice", name(), p.name);
    if (p.grad->dims() != p.value->dims())
      fail("optimizer {}: parameter '{}' is {} but its grad is {}", name(), p.name,
           dims_to_string(p.value->dims()), dims_to_string(p.grad->dims()));
    auto it = state_.find(p.name);
    if (it != state_.end() && !it->second.empty() && it->second[0].dims() != p.value->dims())
      fail("optimizer {}: parameter '{}' is {} but its optimizer state is {}", name(), p.name,
           dims_to_string(p.value->dims()), dims_to_string(it->second[0].dims()));
  }
  const int64_t t = ++steps_;
  for (const ParamRef& p : params) {
    if (!p.trainable()) continue;
    std::vector<Tensor>& slots = state_[p.name];
    if (slots.size() != slot_names_.size()) {
      slots.clear();
      for (float init : slot_init_) {
        slots.emplace_back(p.value->dims());
        slots.back().fill(init);
      }
    }
    float* w = p.value->data();
    const float* g = p.grad->data();
    const double plr = param_lr(p, lr);
    std::vector<float*> s(slots.size());
    for (size_t i = 0; i < slots.size(); ++i) s[i] = slots[i].data();
    parallel_for(p.value->numel(), kParallelGrain, [&](int64_t b, int64_t e) {
      std::vector<float*> sb(s.size());
      for (size_t i = 0; i < s.size(); ++i) sb[i] = s[i] + b;
      update(w + b, g + b, sb.data(), e - b, plr, t);
    });
  }
}

NamedTensors Optimizer::export_state() const {
  NamedTensors out;
  for (const auto& [param, slots] : state_)
    for (size_t i = 0; i < slots.size(); ++i)
      out.push_back({param + "/" + slot_names_[i], slots[i]});
  Tensor step({2});
  step[0] = float(steps_ / kStepRadix);
  step[1] = float(steps_ % kStepRadix);
  out.push_back({kStepName, std::move(step)});
  return out;
}

void Optimizer::import_state(const NamedTensors& state, const ParamList& params) {
  std::map<std::string_view, const ParamRef*> trainable;
  for (const ParamRef& p : params)
    if (p.trainable()) trainable.emplace(p.name, &p);

  std::optional<int64_t> steps;
  std::map<std::string, std::vector<Tensor>, std::less<>> fresh;
  std::map<std::string, std::set<size_t>, std::less<>> present;
  std::set<std::string_view> seen;
  for (const NamedTensor& nt : state) {
    if (!seen.insert(nt.name).second)
      fail("optimizer {}: state tensor '{}' appears twice", name(), nt.name);
    if (nt.name == kStepName) {
      const Tensor& s = nt.tensor;
      auto part_ok = [](float v) { return v >= 0 && v < float(kStepRadix) && v == std::floor(v); };
      if (s.dims() != Dims{2} || !part_ok(s[0]) || !part_ok(s[1]))
        fail("optimizer {}: state tensor '{}' is not a valid step count", name(), kStepName);
      steps = int64_t(s[0]) * kStepRadix + int64_t(s[1]);
      continue;
    }
    size_t slash = nt.name.rfind('/');
    if (slash == std::string::npos)
      fail("optimizer {}: state tensor '{}' is not named '<parameter>/<slot>'", name(), nt.name);
    std::string param = nt.name.substr(0, slash), slot = nt.name.substr(slash + 1);
    size_t k = 0;
    while (k < slot_names_.size() && slot_names_[k] != slot) ++k;
    if (k == slot_names_.size())
      fail("optimizer {}: state tensor '{}' has slot '{}', but {} keeps: {}", name(), nt.name, slot,
           name(), join(slot_names_));
    auto it = trainable.find(param);
    if (it == trainable.end())
      fail("optimizer {}: state tensor '{}' is for '{}', which is not a trainable parameter",
           name(), nt.name, param);
    if (nt.tensor.dims() != it->second->value->dims())
      fail("optimizer {}: state tensor '{}' is {} but parameter '{}' is {}", name(), nt.name,
           dims_to_string(nt.tensor.dims()), param, dims_to_string(it->second->value->dims()));
    auto& slots = fresh[param];
    slots.resize(slot_names_.size());
    slots[k] = nt.tensor;
    present[param].insert(k);
  }
  if (!steps) fail("optimizer {}: state has no '{}' tensor", name(), kStepName);
  // Every parameter is updated on every step, so after one step all of them have state.
  if (*steps > 0 && !slot_names_.empty()) {
    for (const auto& [pname, p] : trainable) {
      auto it = present.find(pname);
      for (size_t k = 0; k < slot_names_.size(); ++k)
        if (it == present.end() || !it->second.count(k))
          fail("optimizer {}: state has no '{}/{}' for trainable parameter '{}'", name(), pname,
               slot_names_[k], pname);
    }
  } else if (!fresh.empty()) {
    fail("optimizer {}: state has per-parameter tensors but a step count of 0", name());
  }
  state_ = std::move(fresh);
  steps_ = *steps;
}

// ---- SGD

Sgd::Sgd(const OptimizerOptions& o)
    : Optimizer(o.momentum > 0 ? std::vector<std::string>{"momentum"} : std::vector<std::string>{},
                o.momentum > 0 ? std::vector<float>{0.f} : std::vector<float>{}),
      momentum_(float(o.momentum)),
      weight_decay_(float(o.weight_decay.value_or(0.0))),
      nesterov_(o.nesterov) {
  check_range("sgd", "momentum", o.momentum, 0, 1, true);
  check_range("sgd", "weight_decay", weight_decay_, 0, INFINITY, false);
  if (nesterov_ && momentum_ == 0) fail("optimizer sgd: nesterov needs momentum > 0");
}

void Sgd::update(float* w, const float* g, float* const* slots, int64_t n, double lr,
                 int64_t) const {
  const float lr_f = float(lr), mu = momentum_, wd = weight_decay_;
  if (mu == 0) {
    for (int64_t i = 0; i < n; ++i) w[i] -= lr_f * (g[i] + wd * w[i]);
    return;
  }
  float* b = slots[0];
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i] + wd * w[i];
    b[i] = mu * b[i] + gi;
    w[i] -= lr_f * (nesterov_ ? gi + mu * b[i] : b[i]);
  }
}

// ---- RMSprop

RmsProp::RmsProp(const OptimizerOptions& o)
    : Optimizer({"mean_square", "momentum"}, {float(o.initial_mean_square), 0.f}),
      rho_(float(o.rho)),
      momentum_(float(o.momentum)),
      epsilon_(float(o.epsilon.value_or(1e-7))),
      weight_decay_(float(o.weight_decay.value_or(0.0))) {
  check_range("rmsprop", "rho", o.rho, 0, 1, true);
  check_range("rmsprop", "momentum", o.momentum, 0, 1, true);
  check_range("rmsprop", "initial_mean_square", o.initial_mean_square, 0, INFINITY, false);
  check_range("rmsprop", "weight_decay", weight_decay_, 0, INFINITY, false);
  if (!(epsilon_ > 0) || !std::isfinite(epsilon_))
    fail("optimizer rmsprop: epsilon = {} must be > 0", epsilon_);
  if (o.nesterov) fail("optimizer rmsprop: nesterov is only for sgd");
}

void RmsProp::update(float* w, const float* g, float* const* slots, int64_t n, double lr,
                     int64_t) const {
  const float lr_f = float(lr), one_minus_rho = 1.f - rho_;
  float* ms = slots[0];
  float* mom = slots[1];
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i] + weight_decay_ * w[i];
    ms[i] += (gi * gi - ms[i]) * one_minus_rho;  // TF's form of rho*ms + (1-rho)*g^2
    mom[i] = momentum_ * mom[i] + lr_f * gi / std::sqrt(ms[i] + epsilon_);
    w[i] -= mom[i];
  }
}

// ---- Adam / AdamW

Adam::Adam(const OptimizerOptions& o, bool decoupled)
    : Optimizer({"m", "v"}, {0.f, 0.f}),
      beta1_(o.beta1),
      beta2_(o.beta2),
      epsilon_(float(o.epsilon.value_or(1e-8))),
      weight_decay_(float(o.weight_decay.value_or(decoupled ? 0.01 : 0.0))),
      decoupled_(decoupled) {
  const char* n = decoupled ? "adamw" : "adam";
  check_range(n, "beta1", o.beta1, 0, 1, true);
  check_range(n, "beta2", o.beta2, 0, 1, true);
  check_range(n, "weight_decay", weight_decay_, 0, INFINITY, false);
  if (!(epsilon_ > 0) || !std::isfinite(epsilon_))
    fail("optimizer {}: epsilon = {} must be > 0", n, epsilon_);
  if (o.momentum != 0 || o.nesterov)
    fail("optimizer {}: momentum/nesterov are not Adam options (use beta1)", n);
}

void Adam::update(float* w, const float* g, float* const* slots, int64_t n, double lr,
                  int64_t t) const {
  // Bias corrections in double: 1 - 0.999^t loses digits in float for small t.
  const double bc1 = 1.0 - std::pow(beta1_, double(t));
  const double bc2 = 1.0 - std::pow(beta2_, double(t));
  const float step_size = float(lr / bc1), inv_bc2_sqrt = float(1.0 / std::sqrt(bc2));
  const float b1 = float(beta1_), b2 = float(beta2_);
  const float l2 = decoupled_ ? 0.f : weight_decay_;
  const float shrink = decoupled_ ? float(1.0 - lr * weight_decay_) : 1.f;
  float* m = slots[0];
  float* v = slots[1];
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i] + l2 * w[i];
    w[i] *= shrink;
    m[i] = b1 * m[i] + (1.f - b1) * gi;
    v[i] = b2 * v[i] + (1.f - b2) * gi * gi;
    w[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_bc2_sqrt + epsilon_);
  }
}

// ---- LARS

Lars::Lars(const OptimizerOptions& o)
    : Optimizer({"momentum"}, {0.f}),
      momentum_(float(o.momentum)),
      weight_decay_(float(o.weight_decay.value_or(0.0))),
      eta_(o.trust_coefficient) {
  check_range("lars", "momentum", o.momentum, 0, 1, true);
  check_range("lars", "weight_decay", weight_decay_, 0, INFINITY, false);
  check_range("lars", "trust_coefficient", eta_, 0, INFINITY, false);
  if (o.nesterov) fail("optimizer lars: nesterov is only for sgd");
}

double Lars::param_lr(const ParamRef& p, double lr) const {
  if (p.value->rank() <= 1) return lr;
  double ww = 0, gg = 0;
  const float* w = p.value->data();
  const float* g = p.grad->data();
  for (int64_t i = 0; i < p.value->numel(); ++i) {
    ww += double(w[i]) * w[i];
    gg += double(g[i]) * g[i];
  }
  const double wn = std::sqrt(ww), gn = std::sqrt(gg);
  if (wn == 0 || gn == 0) return lr;
  return lr * eta_ * wn / (gn + weight_decay_ * wn);
}

void Lars::update(float* w, const float* g, float* const* slots, int64_t n, double lr,
                  int64_t) const {
  const float lr_f = float(lr), mu = momentum_, wd = weight_decay_;
  float* b = slots[0];
  for (int64_t i = 0; i < n; ++i) {
    b[i] = mu * b[i] + lr_f * (g[i] + wd * w[i]);
    w[i] -= b[i];
  }
}

// ---- factories and helpers

std::unique_ptr<Optimizer> make_optimizer(std::string_view name, const OptimizerOptions& o) {
  if (name == "sgd") return std::make_unique<Sgd>(o);
  if (name == "rmsprop") return std::make_unique<RmsProp>(o);
  if (name == "adam") return std::make_unique<Adam>(o, false);
  if (name == "adamw") return std::make_unique<Adam>(o, true);
  if (name == "lars") return std::make_unique<Lars>(o);
  fail("unknown optimizer '{}' (expected sgd, rmsprop, adam, adamw or lars)", name);
}

OptimizerOptions xception_rmsprop_options() {
  OptimizerOptions o;
  o.rho = 0.9;
  o.momentum = 0.9;
  o.epsilon = 1.0;
  o.initial_mean_square = 1.0;
  return o;
}

std::unique_ptr<Optimizer> make_xception_rmsprop() {
  return std::make_unique<RmsProp>(xception_rmsprop_options());
}

double clip_grad_global_norm(const ParamList& params, double max_norm) {
  if (!(max_norm > 0)) fail("clip_grad_global_norm: max_norm = {} must be > 0", max_norm);
  double sum = 0;
  for (const ParamRef& p : params) {
    if (!p.trainable()) continue;
    const float* g = p.grad->data();
    for (int64_t i = 0; i < p.grad->numel(); ++i) sum += double(g[i]) * g[i];
  }
  const double norm = std::sqrt(sum);
  if (std::isfinite(norm) && norm > max_norm) {
    const float scale = float(max_norm / norm);
    for (const ParamRef& p : params) {
      if (!p.trainable()) continue;
      float* g = p.grad->data();
      for (int64_t i = 0; i < p.grad->numel(); ++i) g[i] *= scale;
    }
  }
  return norm;
}

}  // namespace xcept

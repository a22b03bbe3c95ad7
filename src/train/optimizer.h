// Optimizers: one update of every trainable parameter from its accumulated gradient.
//
// State (momentum buffers, moment estimates) is kept per parameter, keyed by the
// parameter's full name, so it survives the graph handing out fresh ParamRefs and can be
// written to a checkpoint as named tensors "<parameter>/<slot>" plus one "@step" tensor.
//
// Formulations (g = gradient, w = parameter, t = 1-based step count):
//   sgd      PyTorch's:  g += wd*w;  b = mu*b + g;  w -= lr * (nesterov ? g + mu*b : b)
//            (b starts at zero, which equals PyTorch's "b = g on the first step" with no
//            dampening; nesterov is PyTorch's, not Sutskever's look-ahead form.)
//   rmsprop  TensorFlow's ApplyRMSProp: g += wd*w;  ms = rho*ms + (1-rho)*g^2;
//            mom = mu*mom + lr*g/sqrt(ms + eps);  w -= mom   (eps INSIDE the sqrt).
//            ms starts at `initial_mean_square`: 0 as in Keras, 1 as in TF1's
//            tf.train.RMSPropOptimizer, which the Xception paper's recipe used.
//   adam     PyTorch's:  g += wd*w;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
//            w -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
//   adamw    adam without the L2 term, after decoupled decay: w -= lr*wd*w first.
//   lars     You, Gitman, Ginsburg 2017 (large-batch SGD), per parameter tensor:
//            local = eta * ||w|| / (||g|| + wd*||w||)  (1 when either norm is 0);
//            b = mu*b + lr*local*(g + wd*w);  w -= b.  Tensors of rank 1 (biases,
//            batch-norm gamma and beta) take local = 1, as the large-batch recipes do:
//            their norms say nothing about a layer's scale. Decay applies to all.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/named_tensor.h"
#include "layers/param.h"

namespace xcept {

// Hyper-parameters of every optimizer; each reads the fields it uses. Unset optionals take
// the per-optimizer default noted beside them.
struct OptimizerOptions {
  double momentum = 0.0;  // sgd, rmsprop
  bool nesterov = false;  // sgd
  std::optional<double> weight_decay =
      std::nullopt;                   // L2 (sgd/rmsprop/adam: 0), decoupled (adamw: 0.01)
  double rho = 0.9;                   // rmsprop: decay of the mean square
  double initial_mean_square = 0.0;   // rmsprop: 0 (Keras) or 1 (TF1)
  double beta1 = 0.9, beta2 = 0.999;  // adam, adamw
  std::optional<double> epsilon = std::nullopt;  // rmsprop 1e-7 (Keras), adam/adamw 1e-8 (PyTorch)
  double trust_coefficient = 0.001;   // lars: eta
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual const char* name() const = 0;  // the make_optimizer name: "sgd", "adamw", ...

  // Updates every trainable parameter from its grad (non-trainable ones are skipped).
  // Throws xcept::Error, before changing anything, on a non-finite or negative lr, a grad
  // whose dims differ from its value's, a repeated name, or a parameter whose dims changed
  // since its state was made.
  void step(const ParamList& params, double lr);

  int64_t steps() const { return steps_; }  // step() calls so far

  // Names of the per-parameter state tensors, e.g. {"m", "v"}; empty for plain SGD.
  const std::vector<std::string>& slot_names() const { return slot_names_; }

  // All state as "<parameter>/<slot>" tensors (sorted by name) plus "@step".
  NamedTensors export_state() const;
  // Replaces the state with `state` (from export_state of the same optimizer type), checked
  // against `params`: every name must be a trainable parameter and one of this optimizer's
  // slots, dims must match the parameter's, and after any step every trainable parameter
  // needs all its slots. Errors name the tensor and parameter; on error nothing changes.
  void import_state(const NamedTensors& state, const ParamList& params);

 protected:
  Optimizer(std::vector<std::string> slot_names, std::vector<float> slot_init);
  // Updates n elements in place. slots[i] is slot i's buffer; t is the 1-based step count.
  // Must be elementwise (it is called on disjoint sub-ranges in parallel).
  virtual void update(float* w, const float* g, float* const* slots, int64_t n, double lr,
                      int64_t t) const = 0;
  // The learning rate for one parameter tensor this step (layer-wise optimizers: LARS).
  virtual double param_lr(const ParamRef& /*p*/, double lr) const { return lr; }

 private:
  std::vector<std::string> slot_names_;
  std::vector<float> slot_init_;
  std::map<std::string, std::vector<Tensor>, std::less<>> state_;
  int64_t steps_ = 0;
};

class Sgd : public Optimizer {
 public:
  explicit Sgd(const OptimizerOptions& o = {});
  const char* name() const override { return "sgd"; }

 protected:
  void update(float* w, const float* g, float* const* slots, int64_t n, double lr,
              int64_t t) const override;

 private:
  float momentum_, weight_decay_;
  bool nesterov_;
};

class RmsProp : public Optimizer {
 public:
  explicit RmsProp(const OptimizerOptions& o = {});
  const char* name() const override { return "rmsprop"; }

 protected:
  void update(float* w, const float* g, float* const* slots, int64_t n, double lr,
              int64_t t) const override;

 private:
  float rho_, momentum_, epsilon_, weight_decay_;
};

// Adam, or AdamW when `decoupled` (weight decay applied to w directly, not via the grad).
class Adam : public Optimizer {
 public:
  explicit Adam(const OptimizerOptions& o = {}, bool decoupled = false);
  const char* name() const override { return decoupled_ ? "adamw" : "adam"; }

 protected:
  void update(float* w, const float* g, float* const* slots, int64_t n, double lr,
              int64_t t) const override;

 private:
  double beta1_, beta2_;
  float epsilon_, weight_decay_;
  bool decoupled_;
};

class Lars : public Optimizer {
 public:
  explicit Lars(const OptimizerOptions& o = {});
  const char* name() const override { return "lars"; }

 protected:
  void update(float* w, const float* g, float* const* slots, int64_t n, double lr,
              int64_t t) const override;
  double param_lr(const ParamRef& p, double lr) const override;

 private:
  float momentum_, weight_decay_;
  double eta_;
};

// "sgd" | "rmsprop" | "adam" | "adamw" | "lars"; throws xcept::Error naming an unknown name
// or a bad hyper-parameter (negative decay, momentum outside [0, 1), nesterov without
// momentum, ...).
std::unique_ptr<Optimizer> make_optimizer(std::string_view name, const OptimizerOptions& o = {});

// The Xception paper's optimizer: RMSprop with decay 0.9, momentum 0.9, epsilon 1.0, as in
// TF1 (mean square starting at 1). Its learning-rate schedule is xception_paper_schedule().
OptimizerOptions xception_rmsprop_options();
std::unique_ptr<Optimizer> make_xception_rmsprop();

// Scales every trainable grad by max_norm / ||all grads||_2 when that norm exceeds max_norm.
// Returns the norm before clipping; a non-finite norm leaves the grads untouched (the
// caller decides whether to skip the step).
double clip_grad_global_norm(const ParamList& params, double max_norm);

}  // namespace xcept

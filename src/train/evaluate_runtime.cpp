#include "train/evaluate_runtime.h"

#include <algorithm>
#include <cstring>
#include <functional>

#include "core/error.h"
#include "io/data_dir.h"
#include "runtime/layer_error.h"
#include "runtime/lower_graph.h"
#include "runtime/optimize.h"
#include "runtime/output_error.h"
#include "train/batcher.h"
#include "train/loss.h"
#include "train/checkpoint_model.h"
#include "train/quantize_checkpoint.h"

namespace xcept {

namespace {

// One precision's running totals over the batches.
struct Tally {
  double loss_sum = 0;
  int64_t correct = 0, images = 0;

  void add(const Tensor& logits, const std::vector<int32_t>& labels) {
    const int64_t n = int64_t(labels.size());
    loss_sum += softmax_cross_entropy(logits, labels, nullptr) * double(n);
    correct += count_top1_correct(logits, labels);
    images += n;
  }
  EvalResult result() const {
    EvalResult r;
    r.images = images;
    if (images > 0) {
      r.loss = loss_sum / double(images);
      r.accuracy = double(correct) / double(images);
    }
    return r;
  }
};

// The first `rows` rows of `t` (the program runs full batches; the last one is padded).
Tensor first_rows(const Tensor& t, int64_t rows) {
  if (rows == t.dim(0)) return t;
  Dims d = t.dims();
  d[0] = rows;
  Tensor head(d);
  std::memcpy(head.data(), t.data(), size_t(head.numel()) * sizeof(float));
  return head;
}

// A checkpoint and its test images, loaded and checked once for any precision.
struct EvalSetup {
  int64_t batch_size;  // first: checked before anything is loaded
  CheckpointModel model;
  Dataset test;
  int64_t images = 0;

  static int64_t positive(int64_t batch) {
    if (batch <= 0) fail("batch_size must be positive, got {}", batch);
    return batch;
  }
  EvalSetup(const std::string& checkpoint, const std::string& data_dir, int64_t batch,
            int64_t limit)
      : batch_size(positive(batch)),
        model(load_checkpoint_model(checkpoint)),
        test(load_dataset(data_dir, "test")) {
    check_images_fit(test, model.graph, data_dir, checkpoint);
    images = limit > 0 ? std::min(limit, test.size()) : test.size();
    if (images == 0) fail("{}: the test set is empty", data_dir);
    batch_size = std::min(batch_size, images);
  }
};

// One batch's logits from the program evaluated and, when it is compared, from f32.
struct BatchLogits {
  Tensor main;
  std::optional<Tensor> f32;
};

// The test loop every precision shares: full batches of normalized images (the last
// padded with zeros, its extra rows ignored) through `run`, tallied, and top-1 compared
// when `run` gives f32 logits too. `compare` without them: the program is its own
// reference (bf16 that ran as f32).
RuntimeEvalResult run_test_set(const EvalSetup& e, const Dims& input,
                               const std::function<BatchLogits(const Tensor&)>& run,
                               bool compare) {
  BatchLoaderOptions lo;
  lo.batch_size = e.batch_size;
  lo.shuffle = false;
  const Normalization& norm = e.model.normalization;
  if (!norm.empty()) lo.augment = AugmentConfig{0, false, norm.mean, norm.std};
  Tally tally, tally_f32;
  int64_t agree = 0;
  bool has_f32 = false;
  Tensor x(input);
  BatchLoader loader(e.test, lo);
  loader.start_epoch(0);
  while (auto b = loader.next()) {
    int64_t n = std::min(int64_t(b->labels.size()), e.images - tally.images);
    if (n <= 0) break;
    b->labels.resize(size_t(n));
    std::fill(x.data(), x.data() + x.numel(), 0.f);
    std::memcpy(x.data(), b->images.data(),
                size_t(n * (x.numel() / e.batch_size)) * sizeof(float));
    BatchLogits out = run(x);
    const Tensor logits = first_rows(out.main, n);
    tally.add(logits, b->labels);
    if (out.f32) {
      has_f32 = true;
      const Tensor logits_f32 = first_rows(*out.f32, n);
      tally_f32.add(logits_f32, b->labels);
      const int64_t classes = logits.numel() / n;
      for (int64_t i = 0; i < n; ++i)
        agree += argmax_row(logits.data() + i * classes, classes) ==
                 argmax_row(logits_f32.data() + i * classes, classes);
    }
  }
  RuntimeEvalResult r;
  r.result = tally.result();
  if (compare && !has_f32) {
    tally_f32 = tally;
    agree = tally.images;
  }
  if (compare) {
    r.f32 = tally_f32.result();
    r.top1_agreement = double(agree) / double(tally.images);
    r.accuracy_delta_points = 100 * (r.result.accuracy - r.f32->accuracy);
  }
  return r;
}

const Dims& input_dims(const Executor& ex) {
  return ex.program().value(ex.program().inputs().at(0)).dims;
}

}  // namespace

RuntimeEvalResult evaluate_checkpoint_runtime(const std::string& checkpoint,
                                              const std::string& data_dir, Precision precision,
                                              int64_t batch_size, int64_t limit) {
  EvalSetup e(checkpoint, data_dir, batch_size, limit);
  auto compile = [&](Precision p) {
    Program program = lower_graph(e.model.graph, e.batch_size);
    optimize(program);
    ExecutorOptions eo;
    eo.precision = p;
    eo.bf16_even_if_slower = true;  // an accuracy study: bf16's rounding even where it is slow
    return Executor(std::move(program), eo);
  };
  Executor main = compile(precision);
  // The f32 reference, unless `main` itself ran in f32 (asked for, or no AVX512_BF16):
  // then it is its own reference.
  std::optional<Executor> ref;
  if (main.precision() != Precision::f32) ref.emplace(compile(Precision::f32));
  RuntimeEvalResult r = run_test_set(
      e, input_dims(main),
      [&](const Tensor& x) {
        BatchLogits out{main.run({&x}).at(0), std::nullopt};
        if (ref) out.f32 = ref->run({&x}).at(0);
        return out;
      },
      precision != Precision::f32);
  r.precision = precision;
  r.precision_run = main.precision();
  return r;
}

Int8EvalResult evaluate_checkpoint_int8(const std::string& checkpoint, const std::string& data_dir,
                                        int64_t batch_size, int64_t limit) {
  EvalSetup e(checkpoint, data_dir, std::min(batch_size, kInt8EvalMaxBatch), limit);
  Int8EvalResult r;
  std::optional<QuantizationRecord> record = checkpoint_quantization(e.model.meta, checkpoint);
  if (!record) {
    // No `xcept quantize` record: calibrate now, as `xcept quantize` would by default.
    const Dataset train = load_dataset(data_dir, "train");
    check_images_fit(train, e.model.graph, data_dir, checkpoint);
    CalibrationSet set;
    set.images = &train;
    set.normalization = e.model.normalization;
    record = calibrate_graph(e.model.graph, set, CalibrationOptions{});
    record->data = data_dir;
    r.calibrated_now = true;
  }
  QuantizedProgram q = quantize_graph(e.model.graph, e.batch_size, *record);
  r.int8_steps = q.int8_steps;
  r.float_steps = std::move(q.float_steps);
  Executor int8(std::move(q.program));
  Executor f32(quantization_program(e.model.graph, e.batch_size));
  LayerErrorMeter meter(f32, int8);
  r.eval = run_test_set(
      e, input_dims(int8),
      [&](const Tensor& x) {
        LayerErrorMeter::Outputs out = meter.run(x);
        return BatchLogits{std::move(out.quantized), std::move(out.f32)};
      },
      true);
  r.layers = meter.report();
  r.record = std::move(*record);
  return r;
}

}  // namespace xcept

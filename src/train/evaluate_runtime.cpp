#include "train/evaluate_runtime.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "io/data_dir.h"
#include "runtime/lower_graph.h"
#include "runtime/optimize.h"
#include "runtime/output_error.h"
#include "train/batcher.h"
#include "train/loss.h"
#include "train/checkpoint_model.h"

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

}  // namespace

RuntimeEvalResult evaluate_checkpoint_runtime(const std::string& checkpoint,
                                              const std::string& data_dir, Precision precision,
                                              int64_t batch_size, int64_t limit) {
  if (batch_size <= 0) fail("batch_size must be positive, got {}", batch_size);
  CheckpointModel m = load_checkpoint_model(checkpoint);
  Graph& graph = m.graph;
  Dataset test = load_dataset(data_dir, "test");
  check_images_fit(test, graph, data_dir, checkpoint);
  const int64_t images = limit > 0 ? std::min(limit, test.size()) : test.size();
  if (images == 0) fail("{}: the test set is empty", data_dir);
  batch_size = std::min(batch_size, images);

  BatchLoaderOptions lo;
  lo.batch_size = batch_size;
  lo.shuffle = false;
  if (!m.normalization.empty())
    lo.augment = AugmentConfig{0, false, m.normalization.mean, m.normalization.std};

  auto compile = [&](Precision p) {
    Program program = lower_graph(graph, batch_size);
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
  const bool compare = precision != Precision::f32;
  if (main.precision() != Precision::f32) ref.emplace(compile(Precision::f32));

  RuntimeEvalResult r;
  r.precision = precision;
  r.precision_run = main.precision();
  Tally tally, tally_f32;
  int64_t agree = 0;
  Tensor x(main.program().value(main.program().inputs().at(0)).dims);
  BatchLoader loader(test, lo);
  loader.start_epoch(0);
  while (auto b = loader.next()) {
    int64_t n = std::min(int64_t(b->labels.size()), images - tally.images);
    if (n <= 0) break;
    b->labels.resize(size_t(n));
    std::fill(x.data(), x.data() + x.numel(), 0.f);
    std::memcpy(x.data(), b->images.data(), size_t(n * (x.numel() / batch_size)) * sizeof(float));
    const Tensor logits = first_rows(main.run({&x}).at(0), n);
    tally.add(logits, b->labels);
    if (ref) {
      const Tensor logits_f32 = first_rows(ref->run({&x}).at(0), n);
      tally_f32.add(logits_f32, b->labels);
      const int64_t classes = logits.numel() / n;
      for (int64_t i = 0; i < n; ++i)
        agree += argmax_row(logits.data() + i * classes, classes) ==
                 argmax_row(logits_f32.data() + i * classes, classes);
    }
  }
  r.result = tally.result();
  if (compare && !ref) {
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

}  // namespace xcept

// Data-parallel arithmetic without MPI: replicas are threads, and their cross-replica
// sums go through shared memory. Synchronized batch norm on shards of a batch, with each
// shard's loss gradient scaled by its share and the gradients summed, must give what one
// model computes on the whole batch.
//
// Only two steps are compared: a network this small, on so few images, is chaotic. Each
// step can flip a relu whose input lies within float noise of zero, and after a handful
// of steps two runs that differ only in the order of float sums (AVX-512 against
// generic kernels, one process) no longer agree at all.
#include <gtest/gtest.h>

#include <barrier>
#include <cstring>
#include <thread>

#include "layers/cross_replica.h"
#include "models/models.h"
#include "test_support.h"
#include "train/loss.h"
#include "train/optimizer.h"

namespace xcept {
namespace {

// Sums over `n` threads in rank order (deterministic): each writes its values to its
// slot, all meet, each adds the slots up, all meet again before slots are reused.
class ThreadReplicas {
 public:
  explicit ThreadReplicas(int n) : slots_(size_t(n)), barrier_(n) {}
  void sum(int rank, double* data, int64_t n) {
    slots_[size_t(rank)].assign(data, data + n);
    barrier_.arrive_and_wait();
    for (int64_t i = 0; i < n; ++i) {
      double s = 0;
      for (const auto& slot : slots_) s += slot[size_t(i)];
      data[i] = s;
    }
    barrier_.arrive_and_wait();
  }

 private:
  std::vector<std::vector<double>> slots_;
  std::barrier<> barrier_;
};

class ReplicaSum : public CrossReplicaSum {
 public:
  ReplicaSum(ThreadReplicas& all, int rank) : all_(all), rank_(rank) {}
  void sum(double* data, int64_t n) override { all_.sum(rank_, data, n); }

 private:
  ThreadReplicas& all_;
  int rank_;
};

Graph small_model() {
  models::ModelOptions o;
  o.alpha = 0.25;
  o.dropout = 0;
  o.input_size = 12;
  o.classes = 4;
  o.seed = 9;
  return models::build_model("mini-mobilenet", o);
}

// Rows [begin, end) of an NHWC batch.
Tensor rows(const Tensor& t, int64_t begin, int64_t end) {
  Dims d = t.dims();
  d[0] = end - begin;
  Tensor out(d);
  const int64_t per = t.numel() / t.dim(0);
  std::memcpy(out.data(), t.data() + begin * per, size_t(out.numel()) * sizeof(float));
  return out;
}

// One training step's gradients (of the mean loss over `global` images, this shard's
// share), left in the graph.
void shard_gradients(Graph& g, const Tensor& x, std::span<const int32_t> y, int64_t global) {
  g.zero_grad();
  const Tensor& logits = g.forward(x, true);
  Tensor dlogits;
  softmax_cross_entropy(logits, y, &dlogits);
  const float share = float(double(y.size()) / double(global));
  for (int64_t i = 0; i < dlogits.numel(); ++i) dlogits[i] *= share;
  g.backward(dlogits);
}

TEST(DataParallel, SyncBatchNormShardsTrainLikeOneBatch) {
  const int64_t batch = 12;
  const int kShards = 3;  // of 5, 4 and 3 images: unequal shares must weigh right
  const int64_t cuts[kShards + 1] = {0, 5, 9, 12};
  Tensor x({batch, 12, 12, 1});
  auto v = test::random_vector<float>(x.numel(), 4, 0.f, 1.f);
  std::copy(v.begin(), v.end(), x.data());
  std::vector<int32_t> y;
  for (int64_t i = 0; i < batch; ++i) y.push_back(int32_t((i * 7) % 4));

  Graph whole = small_model();
  std::vector<Graph> shards;
  for (int s = 0; s < kShards; ++s) shards.push_back(small_model());
  ThreadReplicas replicas(kShards);
  std::vector<std::unique_ptr<ReplicaSum>> sums;
  for (int s = 0; s < kShards; ++s) {
    sums.push_back(std::make_unique<ReplicaSum>(replicas, s));
    for (NodeId id = 0; id < shards[size_t(s)].num_nodes(); ++id)
      if (Layer* l = shards[size_t(s)].layer(id)) l->sync_batch_statistics(sums.back().get());
  }
  auto whole_opt = make_optimizer("sgd", {});
  std::vector<std::unique_ptr<Optimizer>> opts;
  for (int s = 0; s < kShards; ++s) opts.push_back(make_optimizer("sgd", {}));

  for (int step = 0; step < 2; ++step) {
    shard_gradients(whole, x, y, batch);
    std::vector<std::thread> threads;
    for (int s = 0; s < kShards; ++s)
      threads.emplace_back([&, s] {
        shard_gradients(shards[size_t(s)], rows(x, cuts[s], cuts[s + 1]),
                        std::span(y).subspan(size_t(cuts[s]), size_t(cuts[s + 1] - cuts[s])),
                        batch);
        // The gradient all-reduce, in double through the same sums.
        for (ParamRef& p : shards[size_t(s)].params()) {
          if (!p.trainable()) continue;
          std::vector<double> g(p.grad->data(), p.grad->data() + p.grad->numel());
          sums[size_t(s)]->sum(g.data(), int64_t(g.size()));
          for (size_t i = 0; i < g.size(); ++i) p.grad->data()[i] = float(g[i]);
        }
      });
    for (auto& t : threads) t.join();

    ParamList ref = whole.params();
    for (int s = 0; s < kShards; ++s) {
      ParamList got = shards[size_t(s)].params();
      for (size_t i = 0; i < ref.size(); ++i) {
        const Tensor& a = ref[i].grad ? *got[i].grad : *got[i].value;
        const Tensor& b = ref[i].grad ? *ref[i].grad : *ref[i].value;
        EXPECT_LT(test::max_rel_error(a.data(), b.data(), a.numel()), 2e-4)
            << "step " << step << " shard " << s << " " << ref[i].name;
      }
    }
    whole_opt->step(whole.params(), 0.1);
    for (int s = 0; s < kShards; ++s) opts[size_t(s)]->step(shards[size_t(s)].params(), 0.1);
  }
}

}  // namespace
}  // namespace xcept

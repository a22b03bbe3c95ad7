// Structured pruning: whole channels removed, giving a truly smaller network (not a
// masked one) that is saved, rebuilt and run like any other.
//
// A channel can go when nothing but per-channel layers lies between the layer making it
// and the layers reading it: its producer is a convolution with one group (pointwise or
// full), a separable convolution or a dense layer; batch norms, activations, dropout,
// pooling and depthwise convolutions (multiplier 1) pass it on channel for channel; and
// every path ends in a convolution with one group, a separable convolution or a dense
// layer, which lose the matching input rows (a flatten of global pooling's 1x1 output
// passes channels too). A channel that reaches an Add, a Concat, a shuffle, a slice, a
// flatten of a larger map or the network's output stays: removing it would change what
// those mean. So MobileNet's pointwise layers and MobileNet v2's expansions prune;
// residual sums, fire modules' expansions and ShuffleNet's branch outputs do not.
//
// Each prunable layer loses floor(ratio x channels) of its output channels (at least one
// stays), those with the smallest score:
//   l1        the L1 norm of the channel's filter (Li et al. 2017, "Pruning Filters for
//             Efficient ConvNets");
//   bn-gamma  |gamma| of the batch norm right after the producer (Liu et al. 2017,
//             "Network Slimming"); the L1 norm where no batch norm follows.
// The kept channels keep their order and their weights, batch-norm entries and
// statistics; the result is recorded as ModelOptions::widths.
#pragma once

#include <string>
#include <vector>

#include "autograd/graph.h"
#include "models/models.h"
#include "train/trainer.h"

namespace xcept {

enum class PruneCriterion { l1, bn_gamma };
PruneCriterion parse_prune_criterion(const std::string& s);  // "l1" | "bn-gamma"
const char* prune_criterion_name(PruneCriterion c);

// A layer whose output channels can go (`producer`), and the per-channel layers between
// it and the layers reading those channels (`members`: batch norms, activations,
// depthwise convolutions, pooling...), which lose the same channels.
struct ChannelGroup {
  NodeId producer = -1;
  std::vector<NodeId> members;
};

// Every group of `graph`, in node order of the producers.
std::vector<ChannelGroup> prunable_channels(Graph& graph);

struct PrunedLayer {
  std::string name;
  int64_t before = 0, after = 0;  // output channels
};

struct PruneResult {
  models::ModelOptions options;  // the input's, with the new widths
  Graph graph;                   // built from `options`, holding the kept weights
  std::vector<PrunedLayer> layers;  // every prunable layer, in node order
};

// Prunes `graph`, which build_model(model, options) made (a pruned one may be pruned
// again). Throws xcept::Error for a ratio outside [0, 1), or above 0 with nothing to
// prune (ShuffleNet v1: grouped 1x1 convolutions into sums and concatenations).
PruneResult prune_channels(Graph& graph, const std::string& model,
                           const models::ModelOptions& options, double ratio,
                           PruneCriterion criterion);

// `xcept prune`: a checkpoint pruned, optionally fine-tuned, saved as a checkpoint of its
// own (smaller) architecture. Its metadata records the source, ratio and criterion
// (extra.pruned).
struct PruneCheckpointOptions {
  PruneCheckpointOptions() { fine_tune.epochs = 0; }
  std::string checkpoint, out;  // source and result (written once, atomically)
  double ratio = 0.5;
  PruneCriterion criterion = PruneCriterion::l1;
  // Fine-tuning when fine_tune.epochs > 0: trains the pruned network from its kept
  // weights on `fine_tune.data_dir` with these settings (model, model options, init_from
  // and out_dir are filled in: the run's folder is "<out>.fine-tune", holding the pruned
  // network before fine-tuning as pruned.ckpt); `out` is then the run's last.ckpt.
  TrainConfig fine_tune;
};

struct PruneReport {
  std::vector<PrunedLayer> layers;
  int64_t params_before = 0, params_after = 0;  // every parameter, statistics included
  int64_t macs_before = 0, macs_after = 0;
  std::vector<EpochResult> fine_tune;  // the fine-tuning epochs, if any
};

PruneReport prune_checkpoint(const PruneCheckpointOptions& options,
                             const TrainCallbacks& callbacks = {});

}  // namespace xcept

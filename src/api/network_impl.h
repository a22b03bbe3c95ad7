// What a Network holds: the graph, shared with the Models compiled from it.
#pragma once

#include <memory>

#include "autograd/graph.h"
#include "xcept/network.h"

namespace xcept {

struct Network::Impl {
  std::shared_ptr<Graph> graph;
  int64_t seed = 0;  // dropout seeds
  int count = 0;     // for default node names
};

}  // namespace xcept

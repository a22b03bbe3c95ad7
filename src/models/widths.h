// A network with other widths: some layers' output channel counts replaced, every later
// layer sized to what it then reads. Structured pruning records the channels it keeps
// this way (ModelOptions::widths), so a pruned checkpoint rebuilds as the smaller
// network it is, through the same build_model as any other.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "autograd/graph.h"

namespace xcept::models {

// Rebuilds `g` layer by layer, in its node order, names and settings, with the output
// channels of the layers named in `widths` (convolutions that are not depthwise,
// separable convolutions, dense layers) replaced. Batch norms, activations, pooling and
// depthwise convolutions follow their input. Parameters are freshly initialized from
// `seed`. Throws xcept::Error naming the layer when a width is not in [1, the layer's
// width in `g`] (pruning only narrows), names a layer that has no output channels to set
// or no layer at all, or when a layer cannot follow its new input (a grouped
// convolution, a channel slice).
Graph with_widths(Graph& g, const std::map<std::string, int64_t>& widths, uint64_t seed);

}  // namespace xcept::models

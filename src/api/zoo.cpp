#include "api/zoo.h"

#include "core/error.h"

namespace xcept {

models::ModelOptions to_model_options(const ZooOptions& z) {
  models::ModelOptions o;
  o.classes = z.classes;
  o.input_size = z.input_size;
  o.input_channels = z.input_channels;
  o.alpha = z.alpha;
  o.mid_activation = parse_act(z.mid_activation);
  if (z.order == "pw-dw") o.order = SeparableOrder::pointwise_depthwise;
  else if (z.order != "dw-pw") fail("order must be dw-pw or pw-dw, got '{}'", z.order);
  o.residual = z.residual;
  o.middle_repeats = z.middle_repeats;
  o.dropout = z.dropout;
  o.inception_module = z.inception_module;
  o.separable = z.separable;
  o.groups = z.groups;
  o.channel_shuffle = z.channel_shuffle;
  o.seed = z.seed;
  return o;
}

std::vector<ZooModel> zoo_models() {
  std::vector<ZooModel> r;
  for (const auto& m : models::model_list()) r.push_back({m.name, m.description, m.default_input});
  return r;
}

}  // namespace xcept

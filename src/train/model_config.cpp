#include "train/model_config.h"

#include "core/error.h"

namespace xcept {

nlohmann::json model_options_to_json(const models::ModelOptions& o) {
  return {{"classes", o.classes},
          {"input_size", o.input_size},
          {"input_channels", o.input_channels},
          {"alpha", o.alpha},
          {"mid_activation", act_name(o.mid_activation)},
          {"order", separable_order_name(o.order)},
          {"residual", o.residual},
          {"middle_repeats", o.middle_repeats},
          {"dropout", o.dropout},
          {"inception_module", o.inception_module},
          {"separable", o.separable},
          {"groups", o.groups},
          {"widths", o.widths},
          {"channel_shuffle", o.channel_shuffle},
          {"seed", o.seed}};
}

models::ModelOptions model_options_from_json(const nlohmann::json& j) {
  models::ModelOptions o;
  try {
    o.classes = j.at("classes").get<int64_t>();
    o.input_size = j.at("input_size").get<int64_t>();
    o.input_channels = j.at("input_channels").get<int64_t>();
    o.alpha = j.at("alpha").get<double>();
    o.mid_activation = parse_act(j.at("mid_activation").get<std::string>());
    const std::string order = j.at("order").get<std::string>();
    if (order == separable_order_name(SeparableOrder::pointwise_depthwise))
      o.order = SeparableOrder::pointwise_depthwise;
    else if (order != separable_order_name(SeparableOrder::depthwise_pointwise))
      fail("model config: order must be depthwise_pointwise or pointwise_depthwise, not '{}'",
           order);
    o.residual = j.at("residual").get<bool>();
    o.middle_repeats = j.at("middle_repeats").get<int>();
    o.dropout = j.at("dropout").get<float>();
    o.inception_module = j.at("inception_module").get<std::string>();
    o.seed = j.at("seed").get<uint64_t>();
    // Added after the first checkpoints were written: absent means the old default.
    o.groups = j.value("groups", int64_t(0));
    o.separable = j.value("separable", true);
    o.channel_shuffle = j.value("channel_shuffle", false);
    o.widths = j.value("widths", std::map<std::string, int64_t>{});
  } catch (const nlohmann::json::exception& e) {
    fail("model config: {}", e.what());
  }
  return o;
}

}  // namespace xcept

#include "analysis/conv_cost.h"

#include <fmt/format.h>

#include "core/checked_math.h"

namespace xcept {

Cost conv_cost(const ConvShape& s, bool has_bias) {
  Cost c;
  c.params = checked_product({s.kh, s.kw, s.cg(), s.m}, "conv params") + (has_bias ? s.m : 0);
  c.macs = checked_product({s.ho, s.wo, s.kh, s.kw, s.cg(), s.m}, "conv MACs");
  return c;
}

static ConvShape shape(const char* layer, int64_t h, int64_t w, int64_t c, int64_t m, int64_t k,
                       int64_t stride, int64_t groups, Padding pad) {
  return make_conv_shape(layer, 1, h, w, c, conv_params(m, k, stride, pad, groups));
}

// A row of one or two convolutions; the last one's output is the row's.
static FamilyRow row(std::string type, std::string formula, std::vector<ConvShape> convs,
                     bool bias) {
  Cost cost;
  for (const ConvShape& s : convs) cost += conv_cost(s, bias);
  const ConvShape& out = convs.back();
  return {std::move(type), std::move(formula), out.ho, out.wo, out.m, cost, std::move(convs)};
}

std::vector<FamilyRow> convolution_family_costs(const FamilyQuery& q) {
  std::vector<FamilyRow> rows;
  const bool b = q.bias;

  ConvShape normal = shape("normal", q.h, q.w, q.c, q.m, q.k, q.stride, 1, q.padding);
  rows.push_back(row("normal", "K^2 C M", {normal}, b));

  int64_t g = q.groups;
  if (g == 1 && q.c % 2 == 0 && q.m % 2 == 0) g = 2;  // a grouped row with one group is just normal
  ConvShape grouped = shape("grouped", q.h, q.w, q.c, q.m, q.k, q.stride, g, q.padding);
  rows.push_back(row(fmt::format("grouped (g={})", g), "K^2 C M / g", {grouped}, b));

  int64_t dm = q.multiplier;
  ConvShape dw = shape("depthwise", q.h, q.w, q.c, checked_mul(q.c, dm, "depthwise channels"),
                       q.k, q.stride, q.c, q.padding);
  rows.push_back(row(dm == 1 ? "depthwise" : fmt::format("depthwise (d={})", dm),
                     dm == 1 ? "K^2 C" : "K^2 C d", {dw}, b));

  // Pointwise at the same stride, so its output matches the others' spatial size.
  ConvShape pw = shape("pointwise", q.h, q.w, q.c, q.m, 1, q.stride, 1, Padding::valid());
  rows.push_back(row("pointwise", "C M", {pw}, b));

  // Depthwise (strided) then pointwise on its output: MobileNet, TensorFlow.
  ConvShape sep_pw = shape("separable.pointwise", dw.ho, dw.wo, dw.m, q.m, 1, 1, 1, Padding::valid());
  rows.push_back(row(dm == 1 ? "separable (dw->pw)" : fmt::format("separable (dw d={}->pw)", dm),
                     dm == 1 ? "C (K^2 + M)" : "C d (K^2 + M)", {dw, sep_pw}, b));

  // Xception's extreme Inception order: pointwise at full resolution, then depthwise.
  ConvShape ext_pw = shape("extreme.pointwise", q.h, q.w, q.c, q.m, 1, 1, 1, Padding::valid());
  ConvShape ext_dw = shape("extreme.depthwise", q.h, q.w, q.m, q.m, q.k, q.stride, q.m, q.padding);
  rows.push_back(row("separable (pw->dw)", "M (C + K^2)", {ext_pw, ext_dw}, b));
  return rows;
}

}  // namespace xcept

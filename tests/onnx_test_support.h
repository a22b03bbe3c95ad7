// Running an ONNX model folder (model.onnx + test_data_set_N/{input_i,output_i}.pb, the
// layout of ONNX's backend tests) through import + optimize + Executor.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/onnx/onnx_import.h"
#include "io/onnx/onnx_model.h"
#include "io/onnx/onnx_tensor.h"
#include "runtime/executor.h"
#include "runtime/optimize.h"
#include "onnx/onnx_pb.h"

namespace xcept::test {

// The files `prefix`_0.pb, `prefix`_1.pb, ... of a data set folder, in index order.
inline std::vector<std::string> numbered_files(const std::filesystem::path& dir,
                                               const std::string& prefix) {
  std::vector<std::string> r;
  for (int i = 0;; ++i) {
    auto p = dir / (prefix + "_" + std::to_string(i) + ".pb");
    if (!std::filesystem::exists(p)) break;
    r.push_back(p.string());
  }
  return r;
}

struct CaseResult {
  enum Kind { pass, fail, skip } kind = pass;
  std::string message;
};

// |a - b| <= atol + rtol * |b| everywhere (ONNX's test rule); message names the worst.
inline bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, std::string* why) {
  if (a.dims() != b.dims()) {
    *why = "dims " + dims_to_string(a.dims()) + " expected " + dims_to_string(b.dims());
    return false;
  }
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = a[i], y = b[i];
    if (std::isnan(x) && std::isnan(y)) continue;
    if (std::isinf(y) && x == y) continue;
    if (!(std::fabs(x - y) <= atol + rtol * std::fabs(y))) {
      *why = "element " + std::to_string(i) + ": got " + std::to_string(x) + " expected " +
             std::to_string(y);
      return false;
    }
  }
  return true;
}

// Imports the folder's model once per data set (values of all inputs given, so
// inputs feeding weight slots become constants) and compares every output.
inline CaseResult run_onnx_case(const std::filesystem::path& dir, double rtol, double atol) {
  CaseResult res;
  try {
    onnx::ModelProto model = load_onnx_model((dir / "model.onnx").string());
    bool any = false;
    for (int ds = 0;; ++ds) {
      auto set = dir / ("test_data_set_" + std::to_string(ds));
      if (!std::filesystem::is_directory(set)) break;
      any = true;
      std::vector<HostTensor> inputs, expected;
      try {
        for (const auto& f : numbered_files(set, "input")) inputs.push_back(read_tensor_pb(f));
        for (const auto& f : numbered_files(set, "output")) expected.push_back(read_tensor_pb(f));
      } catch (const Error& e) {
        return {CaseResult::skip, std::string("data type: ") + e.what()};
      }
      for (const auto& e : expected)
        if (!e.is_f32()) return {CaseResult::skip, "non-float output"};
      OnnxImportOptions opt;
      opt.model_name = dir.filename().string();
      opt.base_dir = dir.string();
      Program p = import_onnx(model, inputs, opt);
      optimize(p);
      Executor ex(std::move(p));
      std::vector<const Tensor*> args;
      for (const auto& t : inputs)
        if (t.is_f32()) args.push_back(&t.f32);
      std::vector<Tensor> out = ex.run(args);
      if (out.size() != expected.size())
        return {CaseResult::fail, std::to_string(out.size()) + " outputs, expected " +
                                      std::to_string(expected.size())};
      for (size_t i = 0; i < out.size(); ++i) {
        std::string why;
        if (!allclose(out[i], expected[i].f32, rtol, atol, &why))
          return {CaseResult::fail, set.filename().string() + " output " + std::to_string(i) +
                                        ": " + why};
      }
    }
    if (!any) return {CaseResult::skip, "no test data"};
  } catch (const OnnxUnsupported& e) {
    return {CaseResult::skip, e.what()};
  } catch (const std::exception& e) {
    return {CaseResult::fail, e.what()};
  }
  return res;
}

}  // namespace xcept::test

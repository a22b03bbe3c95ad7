// Helpers for the tests that walk the kernel table (kernels/kernels.h): the rows to test
// against their op's `_ref` row (kernels.h's reference_row), by name.
#pragma once

#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace xcept::test {

// Names of an op's rows other than its `_ref` row, as test parameters. An op with no
// such row leaves its suite uninstantiated, which googletest reports as a failure.
template <typename Row>
std::vector<std::string> testable_rows(std::span<const Row> rows) {
  std::vector<std::string> names;
  for (const Row& r : rows)
    if (!r.is_reference()) names.push_back(r.name);
  return names;
}

template <typename Row>
const Row* find_row(std::span<const Row> rows, const std::string& name) {
  for (const Row& r : rows)
    if (name == r.name) return &r;
  return nullptr;
}

inline std::string row_param_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

}  // namespace xcept::test

// In a TEST_P over row names: `row`, the parameter's row of `rows`; skips when this CPU
// lacks the row's ISA.
#define XCEPT_GET_ROW(rows, row)                                                   \
  const auto* row = find_row(rows, GetParam());                                    \
  ASSERT_NE(row, nullptr);                                                         \
  if (!isa_available(row->isa))                                                    \
    GTEST_SKIP() << row->name << " needs " << isa_name(row->isa) << ", CPU has " << isa_name(max_isa());


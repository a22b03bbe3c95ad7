// The merge rows of the kernel table (add_fwd, concat_fwd, concat_bwd) against their
// `_ref` rows, byte for byte (they only add two floats or copy), on sizes around the
// threading grain and the vector width, in place where the op allows it.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernel_table_support.h"
#include "kernels/kernels.h"
#include "test_support.h"

using namespace xcept;
using test::find_row;
using test::testable_rows;
constexpr auto param_name = &test::row_param_name;

namespace {

class AddFwdDifferential : public ::testing::TestWithParam<std::string> {};

TEST_P(AddFwdDifferential, MatchesReferenceAndRunsInPlace) {
  XCEPT_GET_ROW(add_fwd_kernels(), row);
  const auto& ref = reference_row(add_fwd_kernels());
  for (int64_t n : {0, 1, 15, 17, 16384, 16385, 100003}) {
    const auto a = test::random_vector<float>(n, 71), b = test::random_vector<float>(n, 72);
    std::vector<float> want(static_cast<size_t>(n)), got(static_cast<size_t>(n), NAN);
    ref.fn({n}, a.data(), b.data(), want.data());
    row->fn({n}, a.data(), b.data(), got.data());
    ASSERT_EQ(got, want) << row->name << " n " << n;
    std::vector<float> inplace = a;  // y over a, as the layer chains its inputs
    row->fn({n}, inplace.data(), b.data(), inplace.data());
    ASSERT_EQ(inplace, want) << row->name << " in place, n " << n;
  }
}

std::vector<std::vector<int64_t>> concat_lens() {
  return {{1, 1}, {3, 17, 5}, {64, 64}, {0, 7}, {128, 32, 32, 32}, {1000, 24}};
}

class ConcatFwdDifferential : public ::testing::TestWithParam<std::string> {};

TEST_P(ConcatFwdDifferential, MatchesReference) {
  XCEPT_GET_ROW(concat_fwd_kernels(), row);
  const auto& ref = reference_row(concat_fwd_kernels());
  for (int64_t rows : {1, 3, 200, 1031})
    for (const auto& lens : concat_lens()) {
      std::vector<std::vector<float>> in;
      std::vector<const float*> x;
      int64_t total = 0;
      for (size_t k = 0; k < lens.size(); ++k) {
        in.push_back(test::random_vector<float>(rows * lens[k], uint32_t(80 + k)));
        total += lens[k];
      }
      for (const auto& v : in) x.push_back(v.data());
      const ConcatShape s{rows, lens};
      std::vector<float> want(static_cast<size_t>(rows * total)), got(want.size(), NAN);
      ref.fn(s, x.data(), want.data());
      row->fn(s, x.data(), got.data());
      ASSERT_EQ(got, want) << row->name << " " << s.to_string();
    }
}

class ConcatBwdDifferential : public ::testing::TestWithParam<std::string> {};

TEST_P(ConcatBwdDifferential, MatchesReferenceAndSkipsNullGradients) {
  XCEPT_GET_ROW(concat_bwd_kernels(), row);
  const auto& ref = reference_row(concat_bwd_kernels());
  for (int64_t rows : {1, 3, 200, 1031})
    for (const auto& lens : concat_lens()) {
      int64_t total = 0;
      for (int64_t l : lens) total += l;
      const auto dy = test::random_vector<float>(rows * total, 90);
      const ConcatShape s{rows, lens};
      std::vector<std::vector<float>> want, got;
      std::vector<float*> pw, pg;
      for (size_t k = 0; k < lens.size(); ++k) {
        want.emplace_back(size_t(rows * lens[k]), -7.f);
        got.emplace_back(size_t(rows * lens[k]), -7.f);
        // Input 1 wants no gradient: its buffer must stay untouched.
        pw.push_back(k == 1 ? nullptr : want.back().data());
        pg.push_back(k == 1 ? nullptr : got.back().data());
      }
      ref.fn(s, dy.data(), pw.data());
      row->fn(s, dy.data(), pg.data());
      for (size_t k = 0; k < lens.size(); ++k) {
        ASSERT_EQ(got[k], want[k]) << row->name << " " << s.to_string() << " input " << k;
        if (k == 1) {
          for (float v : got[k]) ASSERT_EQ(v, -7.f) << "a null gradient was written";
        }
      }
    }
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Table, AddFwdDifferential,
                         ::testing::ValuesIn(testable_rows(add_fwd_kernels())), param_name);
INSTANTIATE_TEST_SUITE_P(Table, ConcatFwdDifferential,
                         ::testing::ValuesIn(testable_rows(concat_fwd_kernels())), param_name);
INSTANTIATE_TEST_SUITE_P(Table, ConcatBwdDifferential,
                         ::testing::ValuesIn(testable_rows(concat_bwd_kernels())), param_name);

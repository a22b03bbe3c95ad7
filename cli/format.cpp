#include "cli/format.h"

#include <charconv>

#include "core/error.h"

namespace xcept::cli {

std::string with_commas(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

Dims parse_dims(std::string_view text, size_t rank, std::string_view what) {
  Dims dims;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('x', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(pos, end - pos);
    int64_t v = 0;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc() || p != part.data() + part.size() || v <= 0)
      fail("{}: '{}' is not a list of positive integers like 19x19x728", what, text);
    dims.push_back(v);
    pos = end + 1;
  }
  if (rank > 0 && dims.size() != rank)
    fail("{}: '{}' has {} sizes, expected {}", what, text, dims.size(), rank);
  return dims;
}

bool precision_is_int8(const std::string& text) {
  if (text == "int8") return true;
  if (text != "f32" && text != "bf16")
    fail("unknown precision '{}' (expected f32, bf16 or int8)", text);
  return false;
}

}  // namespace xcept::cli

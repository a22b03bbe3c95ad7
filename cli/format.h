// Small text helpers shared by subcommands.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/tensor.h"

namespace xcept::cli {

// "22910480" -> "22,910,480"
std::string with_commas(int64_t v);

// "19x19x728" -> {19, 19, 728}; throws xcept::Error naming `what` unless there are
// exactly `rank` positive integers (any number when rank is 0).
Dims parse_dims(std::string_view text, size_t rank, std::string_view what);

// --precision of bench and eval: true for "int8" (a quantized program), false for f32
// and bf16 (an Executor precision); throws xcept::Error naming anything else.
bool precision_is_int8(const std::string& text);

}  // namespace xcept::cli

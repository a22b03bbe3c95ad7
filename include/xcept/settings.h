// The process-wide settings of the engine, all under the caller's control: how many
// threads the kernels use and which instruction sets they may use. Both start from the
// machine (all cores; the best ISA the CPU has, capped by the environment variable
// XCEPT_MAX_ISA=generic|avx2|avx512 when set) and can be changed at any time.
#pragma once

#include <string_view>

#include "xcept/api.h"

namespace xcept {

// Threads the kernels split work over (>= 1; the caller's thread counts as one).
XCEPT_API int num_threads();
// Safe at any time: waits for running work to finish before changing the workers.
// threads <= 0 means all cores.
XCEPT_API void set_num_threads(int threads);

// Ordered: a CPU that supports an ISA supports all below it.
enum class Isa { generic = 0, avx2 = 1, avx512 = 2 };

XCEPT_API const char* isa_name(Isa isa);  // "generic", "avx2", "avx512"
// Inverse of isa_name; throws xcept::Error naming the bad value.
XCEPT_API Isa parse_isa(std::string_view name);
// The best ISA this CPU (and OS) supports, whatever the cap.
XCEPT_API Isa cpu_isa();
// The ISA kernels may use: cpu_isa() capped by set_max_isa (or XCEPT_MAX_ISA).
XCEPT_API Isa max_isa();
// Caps the kernels at `cap` (a cap above the CPU's ISA leaves the CPU's). Kernels chosen
// from then on follow it; a Model compiled before keeps the weights it prepared.
XCEPT_API void set_max_isa(Isa cap);

}  // namespace xcept

// Which instruction sets this CPU (and OS) can run, and how much memory it has. Kernels for each ISA are compiled
// into the same binary; dispatch asks here once which of them may run.
//
// Isa, isa_name, cpu_isa, max_isa and set_max_isa are public (xcept/settings.h): the
// cap (XCEPT_MAX_ISA or set_max_isa) lets tests, benchmarks and callers force the
// fallback paths.
#pragma once

#include "xcept/settings.h"

namespace xcept {

// True when kernels written for `isa` may run here.
bool isa_available(Isa isa);

// AVX512_BF16 (vdpbf16ps), an extension beside the Isa ladder rather than a rung of it:
// true when the CPU and OS support it. Kernels using it also need isa_available(avx512),
// so XCEPT_MAX_ISA below avx512 turns them off too.
bool cpu_has_avx512_bf16();

// AVX512_VNNI (vpdpbusd on zmm: u8 x s8 dot products of 4, summed into int32), likewise
// beside the ladder: the int8 GEMM's micro-kernel (kernels/avx512_vnni/). Zen 4 and later,
// Intel since Cascade Lake. Also needs isa_available(avx512).
bool cpu_has_avx512_vnni();

// Bytes of physical memory, or 0 when the OS does not say: the bound on buffers a
// model file may ask for.
long long physical_memory_bytes();

// The processor's brand string from cpuid ("AMD EPYC 9R14 96-Core Processor"), trimmed;
// "unknown" where cpuid has none. Benchmarks label their figures with it.
const char* cpu_model_name();

}  // namespace xcept

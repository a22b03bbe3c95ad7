// Aligned allocation for tensors and kernel scratch.
//
// Buffers of 16 MiB and more are 2 MiB aligned and asked to be backed by transparent huge
// pages (madvise, for kernels in THP "madvise" mode, Debian's default). Training walks
// hundreds of megabytes of activations per step in strided patterns (a GEMM packing rows
// 512 bytes apart, a weight gradient reading two such matrices): with 4 KiB pages every
// few rows is a TLB miss and a page the prefetchers stop at. Smaller buffers are 64-byte
// aligned (one cache line, one AVX-512 register).
#pragma once

#include <cstddef>

namespace xcept {

// At least `bytes` (> 0) bytes; throws std::bad_alloc. Free with free_aligned.
void* alloc_aligned(size_t bytes);
void free_aligned(void* p) noexcept;

}  // namespace xcept

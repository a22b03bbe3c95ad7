#include "core/aligned_alloc.h"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace xcept {

namespace {
constexpr size_t kHugePage = size_t(2) << 20;
// A huge-page buffer's last page is resident whole once touched: up to 2 MiB more than
// asked. From 16 MiB on that is at most 1/8 (a training batch's activations are tens
// of megabytes each); smaller buffers keep 4 KiB pages and no waste.
constexpr size_t kHugeFrom = size_t(16) << 20;
}  // namespace

void* alloc_aligned(size_t bytes) {
  const size_t align = bytes >= kHugeFrom ? kHugePage : 64;
  const size_t rounded = (bytes + align - 1) / align * align;
  void* p = std::aligned_alloc(align, rounded);
  if (!p) throw std::bad_alloc();
  // Advice only: a kernel without THP, or one that refuses, leaves 4 KiB pages.
  if (align == kHugePage) (void)madvise(p, rounded, MADV_HUGEPAGE);
  return p;
}

void free_aligned(void* p) noexcept { std::free(p); }

}  // namespace xcept

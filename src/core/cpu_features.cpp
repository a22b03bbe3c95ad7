#include "core/cpu_features.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace xcept {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::generic: return "generic";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "?";
}

static Isa detect_isa() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  // libgcc checks OS support (XSAVE state) along with the CPUID bits.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("fma"))
    return Isa::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::avx2;
#endif
  return Isa::generic;
}

Isa parse_isa(std::string_view name) {
  for (Isa isa : {Isa::generic, Isa::avx2, Isa::avx512})
    if (name == isa_name(isa)) return isa;
  fail("unknown instruction set '{}' (expected generic, avx2 or avx512)", name);
}

Isa cpu_isa() {
  static const Isa hw = detect_isa();
  return hw;
}

namespace {

// The cap: XCEPT_MAX_ISA at first use (an unknown value is ignored: no cap), then
// whatever set_max_isa stores. Read on every kernel dispatch, hence an atomic.
std::atomic<int>& isa_cap() {
  static std::atomic<int> cap = [] {
    const char* env = std::getenv("XCEPT_MAX_ISA");
    for (Isa isa : {Isa::generic, Isa::avx2, Isa::avx512})
      if (env && !std::strcmp(env, isa_name(isa))) return static_cast<int>(isa);
    return static_cast<int>(Isa::avx512);
  }();
  return cap;
}

}  // namespace

Isa max_isa() {
  const int cap = isa_cap().load(std::memory_order_relaxed);
  return cap < static_cast<int>(cpu_isa()) ? static_cast<Isa>(cap) : cpu_isa();
}

void set_max_isa(Isa cap) { isa_cap().store(static_cast<int>(cap), std::memory_order_relaxed); }

bool cpu_has_avx512_bf16() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = [] {
    __builtin_cpu_init();
    return detect_isa() == Isa::avx512 && __builtin_cpu_supports("avx512bf16");
  }();
  return has;
#else
  return false;
#endif
}

bool cpu_has_avx512_vnni() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = [] {
    __builtin_cpu_init();
    return detect_isa() == Isa::avx512 && __builtin_cpu_supports("avx512vnni");
  }();
  return has;
#else
  return false;
#endif
}

bool isa_available(Isa isa) { return static_cast<int>(isa) <= static_cast<int>(max_isa()); }

long long physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<long long>(pages) * page : 0;
}

const char* cpu_model_name() {
  static const std::string name = [] {
    std::string s;
#if defined(__x86_64__) || defined(__i386__)
    unsigned max = __get_cpuid_max(0x80000000u, nullptr);
    if (max >= 0x80000004u) {
      for (unsigned leaf = 0x80000002u; leaf <= 0x80000004u; ++leaf) {
        unsigned r[4] = {};
        __get_cpuid(leaf, &r[0], &r[1], &r[2], &r[3]);
        s.append(reinterpret_cast<const char*>(r), sizeof r);
      }
    }
#endif
    s = s.c_str();  // up to the first NUL
    const size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
    return b == std::string::npos ? std::string("unknown") : s.substr(b, e - b + 1);
  }();
  return name.c_str();
}

}  // namespace xcept

#include "algorithms/runtime/memory.h"

#include <fmt/core.h>

#include <cstdlib>
#include <string_view>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace bpe {

std::string TuneAllocator() {
#if defined(__GLIBC__)
  if (const char* tunables = std::getenv("GLIBC_TUNABLES");
      tunables != nullptr && std::string_view(tunables).find("glibc.malloc.") != std::string_view::npos) {
    return fmt::format("glibc malloc as GLIBC_TUNABLES sets it: {}", tunables);
  }
#endif
#if defined(BPEBENCH_SANITIZER_MALLOC)
  return kSanitizerMalloc;
#elif defined(__GLIBC__)
  if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMmapThresholdBytes)) == 1 &&
      mallopt(M_TRIM_THRESHOLD, static_cast<int>(kTrimThresholdBytes)) == 1) {
    return kTunedMalloc;
  }
  return "glibc malloc with its defaults (mallopt refused the thresholds)";
#else
  return "the C library's malloc with its defaults (not glibc)";
#endif
}

}  // namespace bpe

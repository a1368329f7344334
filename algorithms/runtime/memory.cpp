#include "algorithms/runtime/memory.h"

#include <fmt/core.h>

#include <cstdlib>
#include <string_view>

#include <unistd.h>

#include <string>

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

void ReexecWithHugePages(char** argv) {
#if defined(__GLIBC__) && !defined(BPEBENCH_SANITIZER_MALLOC)
  const char* old = std::getenv("GLIBC_TUNABLES");
  if (old != nullptr && std::string_view(old).find("glibc.malloc.") != std::string_view::npos) return;
  const std::string kept = old != nullptr ? old : "";
  const std::string tunables = kept.empty() ? kHugePageTunables : kept + ":" + kHugePageTunables;
  if (::setenv("GLIBC_TUNABLES", tunables.c_str(), 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // Still here: the restart failed (no /proc, say). Go on as we are, with the environment as it was.
  if (old != nullptr) {
    ::setenv("GLIBC_TUNABLES", kept.c_str(), 1);
  } else {
    ::unsetenv("GLIBC_TUNABLES");
  }
#else
  (void)argv;
#endif
}

}  // namespace bpe

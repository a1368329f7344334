#include "cli/source_dir.h"

#include <cstdlib>
#include <cstring>

namespace bpe {

extern char kSourceDirPath[4096];  // generated: source_dir.cpp.in

std::string SourceDir() {
  const char* dir = std::getenv("BPEBENCH_SOURCE_DIR");
  if (dir && *dir) return dir;
  return std::string(kSourceDirPath, strnlen(kSourceDirPath, sizeof kSourceDirPath));
}

}  // namespace bpe

#include "cli/search_paths.h"

#include <cstdlib>

#include "algorithms/formats/tiktoken.h"
#include "cli/source_dir.h"

namespace bpe::cli {

std::vector<std::string> DefaultTiktokenSearchPath() {
  std::vector<std::string> dirs;
  if (const char* dir = std::getenv("BPEBENCH_TIKTOKEN_DIR"); dir && *dir) dirs.emplace_back(dir);
  dirs.push_back(SourceDir() + "/harness/peers/node_modules/tiktoken/encoders");
  return dirs;
}

void UseDefaultSearchPaths() { SetTiktokenSearchPath(DefaultTiktokenSearchPath()); }

}  // namespace bpe::cli

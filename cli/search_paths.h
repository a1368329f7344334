// Where the programs (bpebench, bpebench_harness, the tests) find data that is not part of the
// library: tiktoken's rank files. The library itself knows no folder; this sets its search path.
//
//   tiktoken rank files   $BPEBENCH_TIKTOKEN_DIR (when set), then
//                         <checkout>/harness/peers/node_modules/tiktoken/encoders (scripts/setup)
//
// Corpora are found through the corpus manifest (corpora/corpus.h).
#pragma once

#include <string>
#include <vector>

namespace bpe::cli {

std::vector<std::string> DefaultTiktokenSearchPath();

// Sets the library's search paths to the defaults above. Call once at start-up.
void UseDefaultSearchPaths();

}  // namespace bpe::cli

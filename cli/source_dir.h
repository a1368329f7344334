// Where this checkout is: its source folder as compiled in, or $BPEBENCH_SOURCE_DIR when set. The
// compiled-in path lives in an array of fixed size (source_dir.cpp.in, read only by source_dir.cpp), so the binaries' layout does
// not depend on how long the checkout's path is; with the variable, neither do the strings built from
// it. The counting harness relies on both (harness/counting.h): a count must not change with the
// folder the project was built in.
#pragma once

#include <string>

namespace bpe {

std::string SourceDir();

}  // namespace bpe

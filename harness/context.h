// What a results file must say about where it was measured: CPU, compiler and flags, commit.
#pragma once

#include <string>

namespace bpe::harness {

std::string CpuModel();
std::string GitCommit();  // "unknown" outside a git checkout
bool GitDirty();
std::string UtcNow();     // ISO 8601
// Adds CPU model, compiler, flags, build type, commit, dirty flag and date to the benchmark context.
void AddBuildContext();

}  // namespace bpe::harness

// What a results file must say about where it was measured: CPU, compiler and flags, commit.
#pragma once

#include <string>

namespace bpe::harness {

// What `command` (run by the shell) prints on stdout, trailing newlines and spaces removed; "" when
// it cannot be started.
std::string CommandOutput(const std::string& command);

std::string CpuModel();
std::string GitCommit();  // "unknown" outside a git checkout
bool GitDirty();
std::string UtcNow();     // ISO 8601
// Adds CPU model, compiler, flags, build type, the allocator's settings (TuneAllocator's line),
// commit, dirty flag and date to the benchmark context.
void AddBuildContext(const std::string& allocator);

// How well this machine runs the same work on `threads` threads instead of 1, right now: a
// dependent arithmetic chain, random loads from a table that fits L2 (as the encoders' tables do),
// and from one that does not (as training's do). On a shared VM the last two can be far below the
// first, and they vary with the neighbours' load; the thread-scaling results are read against them.
// About 0.5 s.
std::string MachineScaling(int threads);
// Records MachineScaling(threads) as bpebench_machine_scaling (nothing below 2 threads).
void AddScalingContext(int threads);

}  // namespace bpe::harness

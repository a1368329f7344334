#include "harness/context.h"

#include <benchmark/benchmark.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <thread>
#include <vector>

#include "algorithms/runtime/parallel.h"
#include "cli/source_dir.h"

#include <unistd.h>

namespace bpe::harness {

std::string CommandOutput(const std::string& command) {
  std::string out;
  if (std::FILE* p = ::popen(command.c_str(), "r")) {
    std::array<char, 256> buf;
    while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

namespace {

// The scaling probe's kernels. Each does `n` steps and returns something that depends on all of
// them, so the compiler keeps the work.
uint64_t ComputeKernel(uint64_t n, uint64_t seed) {  // one dependent multiply-add chain
  uint64_t x = seed;
  for (uint64_t i = 0; i < n; ++i) x = x * 6364136223846793005ull + 1442695040888963407ull;
  return x;
}
uint64_t LoadKernel(const std::vector<uint32_t>& table, uint64_t n, uint64_t seed) {  // 4 random loads a step
  const size_t mask = table.size() - 1;
  uint64_t x = seed, sum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    sum += table[(x >> 20) & mask] + table[(x >> 36) & mask] + table[((x >> 20) ^ 0x5555) & mask] +
           table[((x >> 36) ^ 0xaaaa) & mask];
  }
  return sum;
}

// Median wall time of `kernel(n)` done by 1 thread, and of the same total work split over `threads`
// threads of the pool (parallel.h, as the encoders and counting use it); returns the speedup.
template <typename Kernel>
double Speedup(int threads, uint64_t n, Kernel&& kernel) {
  auto median = [&](size_t parts) {
    std::vector<double> times;
    std::vector<uint64_t> sinks(parts);
    for (int rep = 0; rep < 21; ++rep) {
      const auto start = std::chrono::steady_clock::now();
      RunParallel(parts, [&](size_t i) { sinks[i] += kernel(n / parts, i + rep); });
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    benchmark::DoNotOptimize(sinks.data());
    std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
    return times[times.size() / 2];
  };
  const double one = median(1);
  return one / median(static_cast<size_t>(threads));
}

}  // namespace

std::string MachineScaling(int threads) {
  std::vector<uint32_t> small(size_t{1} << 17, 1), large(size_t{1} << 23, 1);  // 512 KiB, 32 MiB
  for (size_t i = 0; i < large.size(); ++i) large[i] = static_cast<uint32_t>(i * 2654435761u);
  for (size_t i = 0; i < small.size(); ++i) small[i] = large[i];
  const double compute = Speedup(threads, 2'000'000, ComputeKernel);
  const double cached = Speedup(threads, 1'000'000, [&](uint64_t n, uint64_t s) { return LoadKernel(small, n, s); });
  const double memory = Speedup(threads, 250'000, [&](uint64_t n, uint64_t s) { return LoadKernel(large, n, s); });
  return fmt::format("{} threads vs 1 on the same work (median of 21): compute {:.2f}x, random loads from "
                     "512 KiB {:.2f}x, from 32 MiB {:.2f}x",
                     threads, compute, cached, memory);
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::string GitCommit() {
  const std::string c = CommandOutput("git -C '" + SourceDir() + "' rev-parse HEAD 2>/dev/null");
  return c.empty() ? "unknown" : c;
}

// Changes under results/ do not count: a run writing into results/baseline/ would otherwise call
// its own checkout dirty.
bool GitDirty() {
  return !CommandOutput("git -C '" + SourceDir() +
              "' status --porcelain --untracked-files=no -- . ':(exclude)results' 2>/dev/null | head -c 1")
              .empty();
}

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Google Benchmark reads caches from sysfs, which some VMs lack; glibc's sysconf asks the CPU itself.
std::string Caches() {
  struct Level {
    const char* name;
    int key;
  };
  std::string out;
  for (const Level& l : {Level{"L1d", _SC_LEVEL1_DCACHE_SIZE}, Level{"L1i", _SC_LEVEL1_ICACHE_SIZE},
                         Level{"L2", _SC_LEVEL2_CACHE_SIZE}, Level{"L3", _SC_LEVEL3_CACHE_SIZE}}) {
    const long bytes = ::sysconf(l.key);
    if (bytes <= 0) continue;
    if (!out.empty()) out += ", ";
    out += std::string(l.name) + " " + std::to_string(bytes / 1024) + " KiB";
  }
  return out.empty() ? "unknown" : out;
}

void AddBuildContext(const std::string& allocator) {
  benchmark::AddCustomContext("bpebench_caches", Caches());
  benchmark::AddCustomContext("bpebench_cpu_model", CpuModel());
  benchmark::AddCustomContext("bpebench_hardware_threads", std::to_string(std::thread::hardware_concurrency()));
  benchmark::AddCustomContext("bpebench_compiler", BPEBENCH_COMPILER);
  benchmark::AddCustomContext("bpebench_cxx_flags", BPEBENCH_CXX_FLAGS);
  benchmark::AddCustomContext("bpebench_build_type", BPEBENCH_BUILD_TYPE);
  benchmark::AddCustomContext("bpebench_allocator", allocator);
  benchmark::AddCustomContext("bpebench_git_commit", GitCommit());
  benchmark::AddCustomContext("bpebench_git_dirty", GitDirty() ? "true" : "false");
  benchmark::AddCustomContext("bpebench_date_utc", UtcNow());
}

void AddScalingContext(int threads) {
  if (threads < 2) return;
  const std::string line = MachineScaling(threads);
  fmt::print(stderr, "machine scaling probe: {}\n", line);
  benchmark::AddCustomContext("bpebench_machine_scaling", line);
}

}  // namespace bpe::harness

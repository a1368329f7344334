#include "harness/context.h"

#include <benchmark/benchmark.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <thread>

#include <unistd.h>

namespace bpe::harness {
namespace {

std::string Run(const std::string& command) {
  std::string out;
  if (std::FILE* p = ::popen(command.c_str(), "r")) {
    std::array<char, 256> buf;
    while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::string GitCommit() {
  const std::string c = Run("git -C '" BPEBENCH_SOURCE_DIR "' rev-parse HEAD 2>/dev/null");
  return c.empty() ? "unknown" : c;
}

// Changes under results/ do not count: a run writing into results/baseline/ would otherwise call
// its own checkout dirty.
bool GitDirty() {
  return !Run("git -C '" BPEBENCH_SOURCE_DIR
              "' status --porcelain --untracked-files=no -- . ':(exclude)results' 2>/dev/null")
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

void AddBuildContext() {
  benchmark::AddCustomContext("bpebench_caches", Caches());
  benchmark::AddCustomContext("bpebench_cpu_model", CpuModel());
  benchmark::AddCustomContext("bpebench_hardware_threads", std::to_string(std::thread::hardware_concurrency()));
  benchmark::AddCustomContext("bpebench_compiler", BPEBENCH_COMPILER);
  benchmark::AddCustomContext("bpebench_cxx_flags", BPEBENCH_CXX_FLAGS);
  benchmark::AddCustomContext("bpebench_build_type", BPEBENCH_BUILD_TYPE);
  benchmark::AddCustomContext("bpebench_git_commit", GitCommit());
  benchmark::AddCustomContext("bpebench_git_dirty", GitDirty() ? "true" : "false");
  benchmark::AddCustomContext("bpebench_date_utc", UtcNow());
}

}  // namespace bpe::harness

#include "harness/counting.h"

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BPEBENCH_HAVE_CALLGRIND 1
#else
#define BPEBENCH_HAVE_CALLGRIND 0
#endif

#include "algorithms/core/error.h"
#include "cli/search_paths.h"
#include "cli/source_dir.h"
#include "corpora/corpus.h"
#include "harness/context.h"

namespace bpe::harness {
namespace {

bool counting = false;
std::string dump_prefix;  // Callgrind's --callgrind-out-file: dump N goes to <prefix>.<N>
uint64_t dumps = 0;

// Fixed, so counts do not change with the host's caches (Callgrind reads them from CPUID otherwise):
// 32 KiB 8-way first-level caches and an 8 MiB 16-way last level, 64-byte lines.
constexpr const char* kCacheOptions[] = {"--I1=32768,8,64", "--D1=32768,8,64", "--LL=8388608,16,64"};
// glibc sizes its memcpy and memset strategies from the host's caches: fixed too, to the same sizes.
constexpr const char* kGlibcTunables =
    "glibc.cpu.x86_data_cache_size=32768:glibc.cpu.x86_shared_cache_size=8388608:"
    "glibc.cpu.x86_non_temporal_threshold=6291456:glibc.cpu.x86_rep_movsb_threshold=2048:"
    "glibc.cpu.x86_rep_stosb_threshold=2048";

bool OnValgrind() {
#if BPEBENCH_HAVE_CALLGRIND
  return RUNNING_ON_VALGRIND != 0;
#else
  return false;
#endif
}

struct Counts {
  uint64_t instructions = 0, l1_misses = 0, ll_misses = 0;
};

// The totals of one Callgrind dump: its "events:" line names the columns of its "summary:" line
// (trailing zero columns may be left out).
bool ReadDump(const std::string& path, Counts& c, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = fmt::format("Callgrind wrote no dump at {}", path);
    return false;
  }
  std::vector<std::string> events;
  std::vector<uint64_t> values;
  bool have_summary = false;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key == "events:") {
      for (std::string e; words >> e;) events.push_back(e);
    } else if (key == "summary:") {
      for (uint64_t v; words >> v;) values.push_back(v);
      have_summary = true;
    }
  }
  if (events.empty() || !have_summary) {
    error = fmt::format("Callgrind's dump {} has no events or summary line", path);
    return false;
  }
  values.resize(events.size(), 0);
  bool have_ir = false;
  for (size_t i = 0; i < events.size(); ++i) {
    const std::string& e = events[i];
    if (e == "Ir") c.instructions = values[i], have_ir = true;
    if (e == "I1mr" || e == "D1mr" || e == "D1mw") c.l1_misses += values[i];
    if (e == "ILmr" || e == "DLmr" || e == "DLmw") c.ll_misses += values[i];
  }
  if (!have_ir || std::find(events.begin(), events.end(), "D1mr") == events.end()) {
    error = fmt::format("Callgrind's dump {} has no instruction or cache counts (events: {})", path,
                        fmt::join(events, " "));
    return false;
  }
  return true;
}

void RegionStart() {
#if BPEBENCH_HAVE_CALLGRIND
  CALLGRIND_ZERO_STATS;
#endif
}

void RegionEnd(benchmark::State& st) {
#if BPEBENCH_HAVE_CALLGRIND
  CALLGRIND_DUMP_STATS_AT("bpebench region");
#endif
  const std::string path = fmt::format("{}.{}", dump_prefix, ++dumps);
  Counts c;
  std::string error;
  const bool ok = ReadDump(path, c, error);
  std::remove(path.c_str());
  if (!ok) {
    st.SkipWithError(error.c_str());
    return;
  }
  st.counters["instructions"] = static_cast<double>(c.instructions);
  st.counters["l1_misses"] = static_cast<double>(c.l1_misses);
  st.counters["ll_misses"] = static_cast<double>(c.ll_misses);
  st.counters["est_cycles"] =
      static_cast<double>(c.instructions + kL1MissCycles * c.l1_misses + kLLMissCycles * c.ll_misses);
}

}  // namespace

bool Counting() { return counting; }

bool Measure::Iterator::operator!=(const Iterator& end) {
  if (counting_) {  // the counted iteration has just ended
    counting_ = false;
    RegionEnd(*st_);
  }
  const bool more = inner_ != end.inner_;
  if (more && counting && index_ + 1 == st_->max_iterations) {
    counting_ = true;
    RegionStart();
  }
  return more;
}

// The counted process must not see anything that differs between checkouts or runs: path lengths
// change the sizes of the strings it allocates, which changes malloc's state and every later
// address, and so the instruction and cache-miss counts (by up to 6% when tried). So it runs in a
// fixed-length temporary folder D (/tmp/bpebench-callgrind-XXXXXX) with links to what it reads:
//   D/exe -> this program, D/src -> the checkout, D/corpora -> the corpora folder, D/manifest.tsv,
//   D/tiktoken -> tiktoken's rank files, D/cache -> the corpus cache, D/corpus -> --corpus PATH
// and a fixed environment (PATH, HOME=D, LC_ALL=C, GLIBC_TUNABLES and the variables that point at
// the links), with D as its working folder; it writes its results to D/out.json, which is copied to
// --out when it is done.
void StartUnderValgrind(const std::vector<std::string>& args) {
  if (OnValgrind()) return;
#if !BPEBENCH_HAVE_CALLGRIND
  Fail("--measure instructions: this harness was built without valgrind/callgrind.h (install Debian's valgrind; "
       "scripts/setup does) and cannot mark its counted regions");
#endif
#ifdef __AVX512F__
  Fail("--measure instructions: this harness was built with AVX-512 instructions (-march=native on this CPU), which "
       "Valgrind 3.19 cannot decode; run scripts/bench --instructions, which builds the `count` preset "
       "(-march=x86-64-v3) for it");
#endif
  const std::string version = CommandOutput("valgrind --version 2>/dev/null");
  if (version.rfind("valgrind-", 0) != 0) {
    Fail("--measure instructions needs Valgrind, and `valgrind --version` did not answer (install Debian's valgrind; "
         "scripts/setup does)");
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  if (ec) Fail("cannot find this program's own path (/proc/self/exe): {}", ec.message());
  std::string dir = "/tmp/bpebench-callgrind-XXXXXX";
  if (!::mkdtemp(dir.data())) Fail("cannot create a folder for Callgrind ({}): {}", dir, std::strerror(errno));
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};
  const auto link = [&](const std::string& target, const std::string& name) {
    fs::create_symlink(fs::absolute(target, ec), dir + "/" + name, ec);
    if (ec) Fail("cannot link {} to {}: {}", dir + "/" + name, target, ec.message());
    return dir + "/" + name;
  };
  std::string tiktoken = cli::DefaultTiktokenSearchPath().back();
  for (const std::string& d : cli::DefaultTiktokenSearchPath()) {
    if (fs::is_directory(d, ec)) {
      tiktoken = d;
      break;
    }
  }
  std::vector<std::pair<std::string, std::string>> env = {
      {"PATH", "/usr/local/bin:/usr/bin:/bin"},
      {"HOME", dir},
      {"LC_ALL", "C"},
      {"BPEBENCH_SOURCE_DIR", link(SourceDir(), "src")},
      {"BPEBENCH_CORPORA", link(CorporaFolder(), "corpora")},
      {"BPEBENCH_MANIFEST", link(ManifestPath(), "manifest.tsv")},
      {"BPEBENCH_TIKTOKEN_DIR", link(tiktoken, "tiktoken")},
      {"BPEBENCH_CACHE", link(CacheFolder(), "cache")},
      {"BPEBENCH_VALGRIND_VERSION", version},
      {"BPEBENCH_CALLGRIND_OUT", dir + "/callgrind.out"},
  };
  std::string tunables = kGlibcTunables;
  if (const char* t = std::getenv("GLIBC_TUNABLES"); t && *t) tunables = std::string(t) + ":" + tunables;
  env.push_back({"GLIBC_TUNABLES", tunables});

  std::vector<std::string> command = {"valgrind", "--tool=callgrind", "--cache-sim=yes", "--instr-atstart=no", "-q"};
  for (const char* o : kCacheOptions) command.push_back(o);
  const std::string options = fmt::format("{}", fmt::join(command.begin() + 1, command.end(), " "));
  env.push_back({"BPEBENCH_VALGRIND_OPTIONS", options});
  command.push_back("--callgrind-out-file=" + dir + "/callgrind.out");
  command.push_back(link(self, "exe"));
  // The harness's own arguments, with the results file and the user's corpus moved into D.
  std::string out;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if ((a == "--out" || a == "--corpus") && has_value) {
      if (a == "--out") {
        out = args[++i];
        command.insert(command.end(), {"--out", dir + "/out.json"});
      } else {
        command.insert(command.end(), {"--corpus", link(args[++i], "corpus")});
      }
    } else if (a.starts_with("--out=") || a.starts_with("--benchmark_out=")) {
      out = a.substr(a.find('=') + 1);
      command.push_back("--out=" + dir + "/out.json");
    } else if (a.starts_with("--corpus=")) {
      command.push_back("--corpus=" + link(a.substr(9), "corpus"));
    } else {
      command.push_back(a);
    }
  }
  fmt::print(stderr, "counting under {} {}\n", version, options);

  const pid_t child = ::fork();
  if (child < 0) Fail("cannot start valgrind: fork: {}", std::strerror(errno));
  if (child == 0) {
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> argv, envp;
    for (std::string& a : command) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (std::string& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    if (::chdir(dir.c_str()) != 0) std::_Exit(127);
    ::execvpe("valgrind", argv.data(), envp.data());
    fmt::print(stderr, "bpebench_harness: error: cannot start valgrind: {}\n", std::strerror(errno));
    std::_Exit(127);
  }
  // The child handles Ctrl-C (it finishes the benchmark being counted and writes its results).
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGTERM, SIG_IGN);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  // Its results, also when interrupted (130) or when outputs differed (3): written as OUT.partial,
  // then renamed, so OUT never holds a truncated file.
  if (!out.empty() && fs::exists(dir + "/out.json", ec)) {
    fs::copy_file(dir + "/out.json", out + ".partial", fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::rename(out + ".partial", out, ec);
    if (ec) {
      fmt::print(stderr, "bpebench_harness: error: cannot write {}: {}\n", out, ec.message());
      fs::remove_all(dir, ec);
      std::exit(1);
    }
  }
  fs::remove_all(dir, ec);
  std::exit(code);
}

void EnableCounting() {
  const char* prefix = std::getenv("BPEBENCH_CALLGRIND_OUT");
  if (!OnValgrind() || !prefix || !*prefix) {
    Fail("--measure instructions: not running under the harness's own Callgrind (start it as "
         "`bpebench_harness --measure instructions ...`: it starts Valgrind itself)");
  }
  counting = true;
  dump_prefix = prefix;
  const char* version = std::getenv("BPEBENCH_VALGRIND_VERSION");
  const char* options = std::getenv("BPEBENCH_VALGRIND_OPTIONS");
  benchmark::AddCustomContext("bpebench_measure", "instructions");
  benchmark::AddCustomContext("bpebench_valgrind", fmt::format("{}; {}; GLIBC_TUNABLES {}", version ? version : "?",
                                                               options ? options : "?", kGlibcTunables));
  benchmark::AddCustomContext(
      "bpebench_counting",
      fmt::format("each benchmark's loop runs {} iterations under Callgrind; the first warms the simulated caches, "
                  "the last is counted; counters: instructions (Ir), l1_misses (I1mr+D1mr+D1mw), ll_misses "
                  "(ILmr+DLmr+DLmw), est_cycles = instructions + {} x l1_misses + {} x ll_misses; times are "
                  "Valgrind's and mean nothing",
                  kCountingIterations, kL1MissCycles, kLLMissCycles));
}

void StartInstrumentation() {
#if BPEBENCH_HAVE_CALLGRIND
  if (counting) CALLGRIND_START_INSTRUMENTATION;
#endif
}

}  // namespace bpe::harness

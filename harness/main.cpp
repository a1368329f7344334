// bpebench_harness: the benchmark sweep (see sweep.h). Own options first; anything else is passed to
// Google Benchmark (--benchmark_filter, --benchmark_out, ...).
#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>

#include "algorithms/core/error.h"
#include "algorithms/core/memory.h"
#include "algorithms/core/registry.h"
#include "algorithms/core/tiktoken.h"
#include "harness/context.h"
#include "harness/sweep.h"

namespace bpe::harness {
namespace {

constexpr const char* kHelp = R"(usage: bpebench_harness [options] [--benchmark_* options]

Sweeps every registered trainer and encoder over vocabulary sizes, thread counts and corpora, after
checking each one's output against the reference algorithm. Results: Google Benchmark JSON with
the CPU, compiler, flags, commit, corpus hashes, skips and checks in its context.

Benchmarks: count/ (word counting), train/ (from word counts), train_text/ (end to end from text:
counting on T threads, then training), encode/ (held-out text), adversarial/ and piece/ (one long
piece). Peers, in the same run unless --no-peers, under the same names:
  sentencepiece   train_text and encode, in-process (libsentencepiece-dev; skipped if the harness
                  was built without it). Own normalization and tie rules: speed and bytes per token.
  hf_tokenizers   train_text at vocab 30000 only (its Node binding has no size option), and encode
                  with OUR model at each vocab, exported as tokenizer.json: checked id for id.
  tiktoken        encode with its own gpt2, cl100k_base and o200k_base (vocab 50256, 100256,
                  199998: the tokens encode_ordinary gives), 1 thread.
Our encoders also run with those three vocabularies (rank files from the npm tiktoken package,
merges derived from the ranks), each with its own pattern, checked id for id against tiktoken.
HF and tiktoken run in Node (harness/peers/runner.mjs; scripts/setup runs npm ci there). A peer that
is missing is listed as skipped, with the reason, and the sweep goes on.

options:
  --corpora A,B         corpora from corpora/manifest.tsv (default: gutenberg5)
  --vocab-sizes A,B     vocabulary sizes (default: 1000,2000,5000,10000,20000,30000,50000; sizes
                        the corpus cannot reach are left out)
  --threads A,B         thread counts (default: 1,2,4,... up to the hardware threads)
  --pretokenizer P      pre-tokenizer for training and encoding (default: gpt2)
  --budget S            skip runs whose single-shot time is estimated above S seconds (default: 10)
  --repetitions N       repetitions per benchmark (default: 9, what compare's U test needs)
  --min-time S          minimum time per repetition (default: 0.2)
  --adversarial-max B   longest adversarial input in bytes (default: 1048576; 0 leaves them out,
                        and the piece-length benchmarks too)
  --no-peers            leave out the peer libraries (sentencepiece, HF tokenizers, tiktoken)
  --production-vocabs L tiktoken vocabularies our encoders also run with, checked token for token
                        against tiktoken (default: gpt2,cl100k_base,o200k_base; "none" for none)
  --algorithms A,B      only these trainers, encoders and peers (default: all; `bpebench list`
                        names ours). Without the reference (naive), outputs are checked against
                        the first selected algorithm's
  --quick               a small sweep for CI: vocab 1000,5000; 3 repetitions; min time 0.05 s;
                        budget 2 s; adversarial inputs up to 64 KiB; piece lengths 16..1024
  --out FILE            write the JSON results to FILE (written as FILE.partial, renamed when done)

Ctrl-C (SIGINT) or SIGTERM stops the sweep after the benchmark being measured: what was measured is
kept in a valid results file (the rest is listed as interrupted) and the exit status is 130. A
second Ctrl-C stops at once and leaves only FILE.partial.

Progress (what is running, how many of how many, elapsed, time left) goes to stderr.
)";

template <typename T>
std::vector<T> ParseList(const std::string& flag, const std::string& text) {
  std::vector<T> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if constexpr (std::is_same_v<T, std::string>) {
      out.push_back(item);
    } else {
      T v{};
      auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
      if (item.empty() || ec != std::errc() || end != item.data() + item.size() || v <= 0) {
        Fail("{}: '{}' is not a positive whole number", flag, item);
      }
      out.push_back(v);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

double ParseDouble(const std::string& flag, const std::string& text) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && v >= 0) return v;
  } catch (const std::exception&) {
  }
  Fail("{}: '{}' is not a non-negative number", flag, text);
}

// Progress on stderr while the benchmarks run. Repetitions are interleaved at random (see Main), so
// benchmarks finish out of order: a line when each finishes, and every 10 s a line naming what is
// being measured, how many are complete, the time spent and an estimate of the time left.
class Progress : public ProgressSink {
 public:
  void Start(const Plan& plan) {
    plan_ = &plan;
    for (const auto& r : plan.runs) total_s_ += r.estimate_s;
    start_ = std::chrono::steady_clock::now();
    ticker_ = std::jthread([this](std::stop_token stop) {
      std::mutex mu;
      std::unique_lock lock(mu);
      std::condition_variable_any cv;
      while (true) {
        cv.wait_for(lock, stop, std::chrono::seconds(10), [] { return false; });
        if (stop.stop_requested()) return;
        Print("running");
      }
    });
  }
  void Running(size_t index) override { current_ = index; }
  void Finished(const std::string& run_name) {
    for (size_t i = 0; i < plan_->runs.size(); ++i) {  // our name, before Google Benchmark's suffixes
      const std::string& planned = plan_->runs[i].name;
      if (run_name != planned && run_name.rfind(planned + "/", 0) != 0) continue;
      bool first;
      {
        std::lock_guard lock(mu_);
        first = finished_.insert(i).second;
      }
      if (first) Print("done " + planned);
    }
  }
  void Stop() { ticker_ = {}; }

 private:
  void Print(const std::string& what) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const size_t current = current_;
    const std::string detail =
        what == "running" && current < plan_->runs.size() ? "running " + plan_->runs[current].name : what;
    std::lock_guard lock(mu_);
    fmt::print(stderr, "[{}/{} complete] elapsed {:.0f} s, about {:.0f} s left: {}\n", finished_.size(),
               plan_->runs.size(), elapsed, std::max(total_s_ - elapsed, 0.0), detail);
  }

  const Plan* plan_ = nullptr;
  std::chrono::steady_clock::time_point start_;
  double total_s_ = 0;
  std::atomic<size_t> current_{SIZE_MAX};
  std::mutex mu_;              // guards finished_ and the output
  std::set<size_t> finished_;
  std::jthread ticker_;
};

class ProgressReporter : public benchmark::ConsoleReporter {
 public:
  explicit ProgressReporter(Progress& progress) : progress_(progress) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      progress_.Finished(run.run_name.str());  // aggregates only, for most: DisplayAggregatesOnly
    }
  }

 private:
  Progress& progress_;
};

extern "C" void OnInterrupt(int sig) {
  if (Interrupted()) {  // the second one: stop now
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  RequestInterrupt();
  constexpr char kMessage[] =
      "\ninterrupted: finishing the benchmark being measured, then writing the results "
      "(press Ctrl-C again to stop at once)\n";
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
}

int Main(int argc, char** argv, const std::string& allocator) {
  Settings s;
  for (unsigned t = 1; t <= std::max(1u, std::thread::hardware_concurrency()); t *= 2) s.threads.push_back(t);
  if (s.threads.back() != static_cast<int>(std::thread::hardware_concurrency()) &&
      std::thread::hardware_concurrency() > 1) {
    s.threads.push_back(static_cast<int>(std::thread::hardware_concurrency()));
  }
  std::vector<char*> passthrough = {argv[0]};
  std::string out_flag, out_path;
  bool quick = false;
  size_t adversarial_max = 1 << 20;
  std::vector<std::pair<std::string, std::string>> explicit_values;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    }
    if (a.rfind("--benchmark_", 0) == 0) {
      passthrough.push_back(argv[i]);
      continue;
    }
    if (a == "--quick") {
      quick = true;
      continue;
    }
    if (a == "--no-peers") {
      s.peers = false;
      continue;
    }
    std::string value;
    if (const size_t eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      Fail("option {} needs a value (see --help)", a);
    }
    explicit_values.emplace_back(a, value);
  }
  if (quick) {
    s.vocab_sizes = {1000, 5000};
    s.repetitions = 3;
    s.min_time_s = 0.05;
    s.budget_s = 2;
    adversarial_max = 64 << 10;
    s.piece_bytes = {16, 64, 256, 1024};
  }
  for (const auto& [a, value] : explicit_values) {  // explicit options override --quick
    if (a == "--corpora") s.corpora = ParseList<std::string>(a, value);
    else if (a == "--vocab-sizes") s.vocab_sizes = ParseList<uint32_t>(a, value);
    else if (a == "--threads") s.threads = ParseList<int>(a, value);
    else if (a == "--pretokenizer") s.pretokenizer = value;
    else if (a == "--algorithms") s.algorithms = ParseList<std::string>(a, value);
    else if (a == "--production-vocabs") {
      s.production_vocabs = value == "none" ? std::vector<std::string>{} : ParseList<std::string>(a, value);
      for (const auto& v : s.production_vocabs) {
        if (!IsTiktokenName(v)) Fail("--production-vocabs: unknown vocabulary '{}' (gpt2, cl100k_base, o200k_base)", v);
      }
    }
    else if (a == "--budget") s.budget_s = ParseDouble(a, value);
    else if (a == "--repetitions") s.repetitions = ParseList<int>(a, value).at(0);
    else if (a == "--min-time") s.min_time_s = ParseDouble(a, value);
    else if (a == "--adversarial-max") adversarial_max = static_cast<size_t>(ParseDouble(a, value));
    else if (a == "--out") out_path = value;
    else Fail("unknown option '{}' (see --help)", a);
  }
  for (const std::string& a : s.algorithms) {
    bool known = a == "sentencepiece" || a == "hf_tokenizers" || a == "tiktoken";
    for (const auto& t : Trainers()) known |= a == t.name;
    for (const auto& e : Encoders()) known |= a == e.name;
    if (!known) Fail("--algorithms: unknown algorithm '{}' (bpebench list names ours; peers: sentencepiece, hf_tokenizers, tiktoken)", a);
  }
  for (uint32_t v : s.vocab_sizes) {
    if (v < 256) Fail("--vocab-sizes: {} is below the 256-byte alphabet", v);
  }
  std::sort(s.vocab_sizes.begin(), s.vocab_sizes.end());
  for (int t : s.threads) {
    if (t > 256) Fail("--threads: {} is out of range (1..256)", t);
  }
  std::erase_if(s.adversarial_bytes, [&](size_t b) { return b > adversarial_max; });
  if (adversarial_max == 0) s.piece_bytes.clear();

  // Repetitions in random order across benchmarks: on a shared machine a slow spell then spreads
  // over all benchmarks instead of landing on every repetition of one (measured here: +58% on one
  // benchmark between two runs of one commit without it).
  std::string interleave_flag = "--benchmark_enable_random_interleaving=true";
  if (std::none_of(passthrough.begin(), passthrough.end(), [](const char* a) {
        return std::string_view(a).starts_with("--benchmark_enable_random_interleaving");
      })) {
    passthrough.push_back(interleave_flag.data());
  }
  std::string format_flag = "--benchmark_out_format=json";
  // Results go to a temporary name and are renamed when Google Benchmark has closed the file, so the
  // final name never holds a truncated file.
  for (char* a : passthrough) {
    if (std::string_view(a).starts_with("--benchmark_out=")) out_path = std::string(a).substr(16);
  }
  std::erase_if(passthrough, [](const char* a) { return std::string_view(a).starts_with("--benchmark_out="); });
  if (!out_path.empty()) out_flag = "--benchmark_out=" + out_path + ".partial";
  if (!out_flag.empty()) {
    passthrough.push_back(out_flag.data());
    passthrough.push_back(format_flag.data());
  }
  int pass_argc = static_cast<int>(passthrough.size());
  benchmark::Initialize(&pass_argc, passthrough.data());
  if (benchmark::ReportUnrecognizedArguments(pass_argc, passthrough.data())) return 2;

  AddBuildContext(allocator);
  AddScalingContext(*std::max_element(s.threads.begin(), s.threads.end()));
  Progress progress;
  const Plan plan = PrepareSweep(s, &progress);
  fmt::print(stderr, "{} benchmarks registered ({} skipped over the budget, {} mismatches)\n", plan.runs.size(),
             plan.skipped.size(), plan.failures.size());
  ProgressReporter reporter(progress);
  progress.Start(plan);
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  progress.Stop();
  FinishSweep();
  benchmark::Shutdown();
  if (!out_path.empty() && std::rename((out_path + ".partial").c_str(), out_path.c_str()) != 0) {
    Fail("cannot rename {}.partial to {}", out_path, out_path);
  }
  if (Interrupted()) {
    fmt::print(stderr, "interrupted: the benchmarks measured before the signal are in {}\n",
               out_path.empty() ? "the console table" : out_path);
    return 130;
  }
  if (!plan.failures.empty()) {
    fmt::print(stderr, "error: {} outputs differed from the reference algorithm's; see MISMATCH above\n",
               plan.failures.size());
    return 3;
  }
  return 0;
}

}  // namespace
}  // namespace bpe::harness

int main(int argc, char** argv) {
  // First, before the sweep allocates; the line it returns goes into the results' context.
  const std::string allocator = bpe::TuneAllocator();
  try {
    return bpe::harness::Main(argc, argv, allocator);
  } catch (const std::exception& e) {
    fmt::print(stderr, "bpebench_harness: error: {}\n", e.what());
    return 1;
  }
}

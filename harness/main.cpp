// bpebench_harness: the benchmark sweep (see sweep.h). Own options first; anything else is passed to
// Google Benchmark (--benchmark_filter, --benchmark_out, ...).
#include <benchmark/benchmark.h>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <limits>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "algorithms/core/error.h"
#include "algorithms/formats/tiktoken.h"
#include "algorithms/registry.h"
#include "algorithms/runtime/memory.h"
#include "cli/args.h"
#include "cli/search_paths.h"
#include "harness/context.h"
#include "harness/counting.h"
#include "harness/progress.h"
#include "harness/sweep.h"
#include "harness/sweep_internal.h"

namespace bpe::harness {
namespace {

constexpr const char* kHelp = R"(usage: bpebench_harness [options] [--benchmark_* options]

Sweeps every registered trainer and encoder over vocabulary sizes, thread counts and corpora, after
checking each one's output against the reference algorithm. Results: Google Benchmark JSON with
the CPU, compiler, flags, commit, corpus hashes, skips and checks in its context.

Benchmarks: count/ (word counting), train/ (from word counts), train_text/ (end to end from text:
counting on T threads, then training), encode/ (held-out text), adversarial/ and piece/ (one long
piece). The text classes: English prose (gutenberg5, every vocab size), many languages (udhr59),
Chinese (zh_sanguo) and code (python_stdlib, lua) at --class-vocab-sizes, each with tiktoken's
gpt2, cl100k_base and o200k_base too; a corpus whose files are not here is left out, said why.

Peers, in the same run unless --no-peers, under the same names:
  sentencepiece   train_text and encode, in-process (libsentencepiece-dev; skipped if the harness
                  was built without it). Own normalization and tie rules: speed and bytes per token.
  plug-ins        every folder in harness/peers (and --peer-dir) with a peer.json: a program that
                  speaks JSON lines over pipes (docs/peers.md). Shipped: tiktoken (wasm),
                  tiktoken-node and anysphere-tiktoken-node (tiktoken's Rust core, native),
                  hf_tokenizers (native), gpt-tokenizer and js-tiktoken (pure JS), python-bpe (pure
                  Python, small vocab sizes and a prefix of the text). Each is checked id for id
                  against our ids before it is timed: a difference is a MISMATCH, a crash, a hang
                  or garbage is reported as failed with its stderr, and the sweep goes on.
Our encoders also run with tiktoken's vocabularies (rank files from the npm tiktoken package,
merges derived from the ranks), each with its own pattern.

options:
  --corpora A,B         corpora from corpora/manifest.tsv (default: gutenberg5,udhr59,zh_sanguo,
                        python_stdlib,lua)
  --corpus PATH         your own text too (a file, or a folder of files joined in name order): a
                        class of its own, named user_<name>, split like the others, sha256 in the
                        results
  --vocab-sizes A,B     vocabulary sizes for the first corpus (default: 1000,2000,5000,10000,20000,
                        30000,50000; sizes the corpus cannot reach are left out)
  --class-vocab-sizes A,B  vocabulary sizes for the other corpora (default: 10000)
  --class-threads A,B   thread counts for the other corpora (default: 1)
  --threads A,B         thread counts (default: 1,2,4,... up to the hardware threads)
  --pretokenizer P      pre-tokenizer for training and encoding (default: gpt2)
  --budget S            skip runs whose single-shot time is estimated above S seconds (default: 10)
  --repetitions N       repetitions per benchmark (default: 9, what compare's U test needs)
  --min-time S          minimum time per repetition (default: 0.1)
  --adversarial-max B   longest adversarial input in bytes (1 KiB, 16 KiB, 256 KiB, 1 MiB up to B;
                        default: 1048576; 0 leaves them out,
                        and the piece-length benchmarks too)
  --no-peers            leave out the peers (sentencepiece and the plug-ins)
  --peer-dir DIR        plug-in peers from DIR too (a peer folder, or a folder of them)
  --peer-timeout S      a plug-in that takes longer than S seconds to answer has failed (default: 300)
  --production-vocabs L tiktoken vocabularies our encoders also run with, checked token for token
                        against tiktoken (default: gpt2,cl100k_base,o200k_base; "none" for none)
  --algorithms A,B      only these trainers, encoders and peers (default: all; `bpebench list`
                        names ours). Without the reference (naive), outputs are checked against
                        the first selected algorithm's
  --quick               a small sweep for CI: gutenberg5; vocab 1000,5000; 3 repetitions; min time 0.05 s;
                        budget 2 s; adversarial inputs of 1 and 16 KiB; piece lengths 16..1024
  --out FILE            write the JSON results to FILE (written as FILE.partial, renamed when done)
  --measure WHAT        time (default) or instructions: each benchmark's measured region counted
                        under Valgrind's Callgrind (the harness starts it) instead of timed; counters
                        instructions, l1_misses, ll_misses, est_cycles (docs/benchmarking.md). Needs a
                        build without AVX-512 (the `count` preset; scripts/bench --instructions).
                        Its own defaults: gutenberg5, udhr59, zh_sanguo, python_stdlib, each sampled
                        to 256 KiB (--sample-bytes); vocab 1000,5000 (classes 5000); 1 thread; no
                        peers; no train_text rows (on one thread: count/ plus train/); the
                        references (naive) left out; adversarial inputs of 1 and 2 KiB
  --sample-bytes B      use B bytes of each corpus: 16 windows spread over it, cut at piece boundaries
                        (default: the whole corpus; 262144 with --measure instructions)
  --synthetic-bytes B   train_text rows on B bytes of synthetic web-like text (bpebench corpus
                        --synthetic: millions of distinct pieces), vocab 30000 on the most threads,
                        our trainers (checked to agree) and the peers that train (default: 100000000
                        in the full sweep; 0, none, with --quick, --corpora or --measure instructions)
  --synthetic-budget S  skip a synthetic row whose check run takes longer than S seconds (default: 120)

Ctrl-C (SIGINT) or SIGTERM stops the sweep after the benchmark being measured: what was measured is
kept in a valid results file (the rest is listed as interrupted) and the exit status is 130. A
second Ctrl-C stops at once and leaves only FILE.partial.

Progress (what is running, how many of how many, elapsed, time left) goes to stderr.
)";

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
  const cli::Args args(std::vector<std::string>(argv + 1, argv + argc),
                       {"--corpora", "--corpus", "--vocab-sizes", "--class-vocab-sizes", "--class-threads", "--threads", "--pretokenizer",
                        "--budget", "--repetitions", "--min-time", "--adversarial-max", "--production-vocabs",
                        "--algorithms", "--peer-dir", "--peer-timeout", "--out", "--measure", "--sample-bytes",
                        "--synthetic-bytes", "--synthetic-budget"},
                       {"--quick", "--no-peers"}, "--benchmark_");
  if (args.help()) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (!args.positional().empty()) Fail("unexpected argument '{}' (see --help)", args.positional()[0]);
  size_t adversarial_max = 1 << 20;
  const std::string measure = args.Get("--measure", "time");
  if (measure != "time" && measure != "instructions") Fail("--measure: '{}' is not time or instructions", measure);
  const bool count = measure == "instructions";
  if (count) {
    if (args.Has("--quick")) Fail("--quick is a wall-clock sweep; --measure instructions has its own small defaults");
    s.corpora = {"gutenberg5", "udhr59", "zh_sanguo", "python_stdlib"};
    s.vocab_sizes = {1000, 5000};
    s.class_vocab_sizes = {5000};
    s.threads = {1};
    s.class_threads = {1};
    s.repetitions = 1;
    s.budget_s = std::numeric_limits<double>::infinity();  // what is counted must not depend on timing
    s.sample_bytes = 256 << 10;
    s.adversarial_bytes = {1 << 10, 2 << 10};  // rank is quadratic there by design: 16 KiB takes a minute
    s.piece_bytes = {16, 64, 256, 1024};
    s.count_references = false;
    s.train_text = false;
  }
  if (args.Has("--quick")) {  // explicit options below override these
    s.corpora = {"gutenberg5"};
    s.vocab_sizes = {1000, 5000};
    s.repetitions = 3;
    s.min_time_s = 0.05;
    s.budget_s = 2;
    adversarial_max = 64 << 10;
    s.piece_bytes = {16, 64, 256, 1024};
  }
  s.peers = !count && !args.Has("--no-peers");
  s.corpora = args.List("--corpora", s.corpora);
  const auto vocab_sizes = args.UintList("--vocab-sizes", {}, 256, 1u << 24);
  if (!vocab_sizes.empty()) s.vocab_sizes.assign(vocab_sizes.begin(), vocab_sizes.end());
  const auto class_vocab_sizes = args.UintList("--class-vocab-sizes", {}, 256, 1u << 24);
  if (!class_vocab_sizes.empty()) s.class_vocab_sizes.assign(class_vocab_sizes.begin(), class_vocab_sizes.end());
  const auto class_threads = args.UintList("--class-threads", {}, 1, 256);
  if (!class_threads.empty()) s.class_threads.assign(class_threads.begin(), class_threads.end());
  if (args.Has("--corpus")) s.user_corpora = {args.Get("--corpus")};
  if (args.Has("--peer-dir")) s.peer_dirs = {args.Get("--peer-dir")};
  s.peer_timeout_s = args.Double("--peer-timeout", s.peer_timeout_s, 0.1);
  const auto threads = args.UintList("--threads", {}, 1, 256);
  if (!threads.empty()) s.threads.assign(threads.begin(), threads.end());
  s.sample_bytes = args.Uint("--sample-bytes", s.sample_bytes, 0, kMaxSampleBytes);
  // The synthetic rows belong to the full default sweep: not to --quick, counting, or a sweep of
  // chosen corpora, unless asked for.
  if (!count && !args.Has("--quick") && !args.Has("--corpora")) s.synthetic_bytes = 100'000'000;
  s.synthetic_bytes = args.Uint("--synthetic-bytes", s.synthetic_bytes, 0, uint64_t{1} << 36);
  if (count && s.synthetic_bytes > 0) Fail("--synthetic-bytes: the counting sweep has no synthetic rows");
  s.synthetic_budget_s = args.Double("--synthetic-budget", s.synthetic_budget_s, 0);
  if (count) {
    // Callgrind runs one thread at a time: a multi-threaded count would measure its scheduler.
    for (int t : s.threads) {
      if (t != 1) Fail("--measure instructions counts one thread only (--threads 1)");
    }
    for (int t : s.class_threads) {
      if (t != 1) Fail("--measure instructions counts one thread only (--class-threads 1)");
    }
  }
  s.pretokenizer = args.Get("--pretokenizer", s.pretokenizer);
  s.algorithms = args.List("--algorithms", s.algorithms);
  if (args.Get("--production-vocabs") == "none") {
    s.production_vocabs.clear();
  } else {
    s.production_vocabs = args.List("--production-vocabs", s.production_vocabs);
  }
  for (const auto& v : s.production_vocabs) {
    if (!IsTiktokenName(v)) Fail("--production-vocabs: unknown vocabulary '{}' (gpt2, cl100k_base, o200k_base)", v);
  }
  s.budget_s = args.Double("--budget", s.budget_s, 0);
  s.repetitions = static_cast<int>(args.Uint("--repetitions", s.repetitions, 1, 1000));
  s.min_time_s = args.Double("--min-time", s.min_time_s, 0);
  adversarial_max = args.Uint("--adversarial-max", adversarial_max, 0, uint64_t{1} << 32);
  std::string out_path = args.Get("--out");
  for (const std::string& dir : s.peer_dirs) {
    if (!std::filesystem::is_directory(dir)) Fail("--peer-dir {}: not a directory", dir);
  }
  // Not when counting: no peer is counted, and listing their folder would make the allocations
  // before the benchmarks depend on what else lies in it (node_modules or not).
  const std::vector<std::string> peers = count ? std::vector<std::string>{} : PeerNames(s, nullptr);
  for (const std::string& a : s.algorithms) {
    bool known = std::find(peers.begin(), peers.end(), a) != peers.end();
    for (const auto& t : Trainers()) known |= a == t.name;
    for (const auto& e : Encoders()) known |= a == e.name;
    if (!known) Fail("--algorithms: unknown algorithm '{}' (bpebench list names ours; peers: {})", a, fmt::join(peers, ", "));
  }
  if (count) {
    // The options are valid: from here on this process waits for its counted copy under Valgrind
    // and exits with its status; the call returns only in that copy.
    StartUnderValgrind(std::vector<std::string>(argv, argv + argc));
  }
  std::sort(s.vocab_sizes.begin(), s.vocab_sizes.end());
  std::erase_if(s.adversarial_bytes, [&](size_t b) { return b > adversarial_max; });
  if (adversarial_max == 0) s.piece_bytes.clear();

  // Google Benchmark's own options, and the ones set here for it.
  std::vector<std::string> bench_args = {argv[0]};
  for (const std::string& a : args.passthrough()) {
    // Results go to a temporary name and are renamed when Google Benchmark has closed the file, so
    // the final name never holds a truncated file.
    if (a.starts_with("--benchmark_out=")) {
      out_path = a.substr(16);
    } else {
      bench_args.push_back(a);
    }
  }
  // Repetitions in random order across benchmarks: on a shared machine a slow spell then spreads
  // over all benchmarks instead of landing on every repetition of one (measured here: +58% on one
  // benchmark between two runs of one commit without it).
  // Not when counting: one repetition each, in a fixed order.
  if (!count && std::none_of(bench_args.begin(), bench_args.end(), [](const std::string& a) {
        return a.starts_with("--benchmark_enable_random_interleaving");
      })) {
    bench_args.push_back("--benchmark_enable_random_interleaving=true");
  }
  if (!out_path.empty()) {
    bench_args.push_back("--benchmark_out=" + out_path + ".partial");
    bench_args.push_back("--benchmark_out_format=json");
  }
  std::vector<char*> bench_argv;
  for (std::string& a : bench_args) bench_argv.push_back(a.data());
  int bench_argc = static_cast<int>(bench_argv.size());
  benchmark::Initialize(&bench_argc, bench_argv.data());
  if (benchmark::ReportUnrecognizedArguments(bench_argc, bench_argv.data())) return 2;

  AddBuildContext(allocator);
  if (count) {
    EnableCounting();
  } else {
    AddScalingContext(*std::max_element(s.threads.begin(), s.threads.end()));
  }
  Progress progress;
  const Plan plan = PrepareSweep(s, &progress);
  fmt::print(stderr, "{} benchmarks registered ({} skipped over the budget, {} mismatches)\n", plan.runs.size(),
             plan.skipped.size(), plan.failures.size());
  ProgressReporter reporter(progress);
  progress.Start(plan, /*ticker=*/!count);
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  StartInstrumentation();  // counting mode: the checks above ran uninstrumented
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
  bpe::cli::UseDefaultSearchPaths();
  try {
    return bpe::harness::Main(argc, argv, allocator);
  } catch (const std::exception& e) {
    fmt::print(stderr, "bpebench_harness: error: {}\n", e.what());
    return 1;
  }
}

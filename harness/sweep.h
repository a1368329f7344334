// The benchmark sweep: algorithms x vocabulary sizes x thread counts x corpora, all taken from the
// registry. Preparing the sweep runs every algorithm once, checks its output against the reference
// algorithm's (merge lists, ids) and times it; only then are the Google Benchmark runs registered.
// A run whose single-shot time would exceed the budget is registered as skipped, with the reason,
// so results say what was left out and why.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bpe::harness {

struct Settings {
  // The text classes: English prose, many languages, CJK, code. The first corpus gets every vocab
  // size; the others (and the user's own text) get class_vocab_sizes, so the sweep stays short.
  std::vector<std::string> corpora = {"gutenberg5", "udhr59", "zh_sanguo", "python_stdlib", "lua"};
  std::vector<uint32_t> vocab_sizes = {1000, 2000, 5000, 10000, 20000, 30000, 50000};
  std::vector<uint32_t> class_vocab_sizes = {10000};
  std::vector<int> class_threads = {1};
  std::vector<std::string> user_corpora;  // --corpus PATH: a file or a folder of files, a class of its own
  std::vector<int> threads;  // default: 1, 2, 4, ... up to the hardware threads
  std::string pretokenizer = "gpt2";
  double held_out_fraction = 0.1;  // the tail of each corpus, never seen by training
  double budget_s = 10;            // skip a run whose single-shot time is estimated above this
  double min_time_s = 0.1;         // Google Benchmark's min time per repetition
  int repetitions = 9;             // compare's U test wants at least 9
  std::vector<size_t> adversarial_bytes = {1 << 10, 16 << 10, 256 << 10, 1 << 20};
  bool peers = true;               // sentencepiece and the plug-in peers beside our algorithms
  std::vector<std::string> peer_dirs;  // more plug-in folders (--peer-dir), beside harness/peers
  double peer_timeout_s = 300;     // a plug-in that takes longer to answer one request has failed
  std::vector<std::string> algorithms;  // only these trainers, encoders and peers; empty: all
  // tiktoken's vocabularies our encoders also run with (production sizes: 50k, 100k, 200k)
  std::vector<std::string> production_vocabs = {"gpt2", "cl100k_base", "o200k_base"};
  bool Selected(std::string_view name) const {
    return algorithms.empty() || std::find(algorithms.begin(), algorithms.end(), name) != algorithms.end();
  }
  std::vector<size_t> piece_bytes = {8, 16, 32, 64, 128, 512, 2048};  // rank/heap crossover
  // Use this many bytes of each corpus (0: all): 16 windows spread over it, cut at piece boundaries,
  // so a sample of many-language text holds many of its languages.
  size_t sample_bytes = 0;
  // Register the reference algorithms' (naive) rows too; their outputs are the checks' reference
  // either way. The counting sweep leaves them out: they are the specification, not tuned code.
  bool count_references = true;
  // The train_text rows (counting then training, on T threads). The counting sweep leaves them out:
  // on one thread they are the count/ and train/ rows added up.
  bool train_text = true;
  // Synthetic web-like text (corpora/synthetic.h) of this many bytes, where the distinct pieces
  // number in the millions: train_text rows only (our trainers, and the peers that train), at
  // synthetic_vocab on the most threads. 0: none (the full sweep's default is 100 MB when --corpora
  // is not given). Its rows get their own budget: one run takes seconds, not milliseconds.
  uint64_t synthetic_bytes = 0;
  uint32_t synthetic_vocab = 30000;
  double synthetic_budget_s = 120;
};
inline constexpr size_t kMaxSampleBytes = size_t{1} << 32;

struct Planned {
  std::string name;
  double estimate_s;    // all repetitions together, for the progress display's time left
  int repetitions = 1;
};

// What the sweep reports as it goes, for the progress display (see progress.h).
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void Checking(const std::string& name) = 0;  // a check before the benchmarks starts
  virtual void Running(size_t index) = 0;              // planned run `index` is being measured now
  virtual void RepetitionDone(size_t index) = 0;       // one of its repetitions has been measured
};

struct Plan {
  std::vector<Planned> runs;
  std::vector<std::string> skipped;   // "name: reason"
  std::vector<std::string> failures;  // outputs that differ from the reference
  std::vector<std::string> notes;
};

// Set (from a signal handler) when the user interrupts the sweep: benchmarks not yet measured then
// report "interrupted" instead of running, Google Benchmark finishes its results file with what was
// measured, and the harness exits 130.
bool Interrupted();
void RequestInterrupt();  // async-signal-safe

// Loads corpora, verifies every algorithm, registers the benchmarks and adds the sweep's settings,
// corpus hashes, skips and checks to the benchmark context. Progress goes to stderr.
// `progress` (may be null) must outlive the benchmark run.
Plan PrepareSweep(const Settings& settings, ProgressSink* progress);
// After the benchmarks ran: stops the peers' runner processes and removes their temporary files.
void FinishSweep();

}  // namespace bpe::harness

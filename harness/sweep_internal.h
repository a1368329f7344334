// What the sweep's parts share (sweep.cpp: our algorithms; peer_sweep.cpp: the peer libraries):
// the loaded corpus, one-shot timing, output checksums, the per-axis time budget and the registrar
// that turns a checked run into a Google Benchmark benchmark (or a skipped/mismatched entry).
#pragma once

#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "algorithms/core/model.h"
#include "algorithms/core/pretokenizer.h"
#include "algorithms/core/vocabulary.h"
#include "algorithms/core/types.h"
#include "algorithms/registry.h"
#include "harness/counting.h"
#include "harness/sweep.h"

namespace bpe::harness {

struct CorpusData {
  std::string name;
  std::vector<uint32_t> vocab_sizes;  // the sweep's for the first corpus, class_vocab_sizes for the rest
  std::vector<int> threads;           // the sweep's for the first corpus, class_threads for the rest
  std::string text;
  std::string_view train, held_out;
  WordCounts counts;  // of `train`, with the sweep's pre-tokenizer
};

template <typename F>
double TimeOnce(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

inline uint64_t Fnv1a(const void* data, size_t bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}
template <typename T>
uint64_t Checksum(const std::vector<T>& v) { return Fnv1a(v.data(), v.size() * sizeof(T)); }

// One algorithm along one growing axis (vocab size or input length): stops it once the next
// single run is estimated to exceed the budget, assuming time grows as (size ratio)^exponent.
struct Budget {
  double last_s = 0;
  double last_size = 0;
  std::string skip_reason;
  std::string first_skipped;

  bool Allows(double size, double exponent, double budget_s, const std::string& what) {
    if (!skip_reason.empty()) {
      if (what != first_skipped && skip_reason.find("; so are") == std::string::npos) {
        skip_reason += "; so are all larger ones";
      }
      return false;
    }
    if (last_size > 0) {
      const double estimate = last_s * std::pow(size / last_size, exponent);
      if (estimate > budget_s) {
        skip_reason = fmt::format("skipped: one run {} estimated at {:.1f} s, over the budget of {:g} s",
                                  what, estimate, budget_s);
        first_skipped = what;
        return false;
      }
    }
    return true;
  }
  void Record(double size, double seconds) { last_size = size, last_s = seconds; }
};

class Registrar {
 public:
  Registrar(const Settings& s, Plan& plan, ProgressSink* progress)
      : s_(s), plan_(plan), progress_(progress) {}

  // A benchmark timed here: Google Benchmark runs `fn`'s loop for the sweep's min time per repetition
  // (one iteration per repetition when a single run takes over a second).
  void Add(const std::string& name, double single_s, std::function<void(benchmark::State&)> fn) {
    if (!s_.count_references && IsReference(name)) {
      if (!references_noted_) {
        plan_.notes.push_back("the reference algorithms (naive) are not measured (only their outputs serve as the check)");
        references_noted_ = true;
      }
      return;
    }
    Register(name, single_s, std::move(fn), false);
  }
  // A benchmark timed elsewhere (a peer's runner process, which repeats the work for the min time
  // itself): `fn` runs one iteration and reports its time with st.SetIterationTime.
  void AddTimedElsewhere(const std::string& name, double single_s, std::function<void(benchmark::State&)> fn) {
    Register(name, single_s, std::move(fn), true);
  }
  void Skip(const std::string& name, const std::string& reason) {
    plan_.skipped.push_back(name + ": " + reason);
    AddFailed(name, reason);
  }
  void Mismatch(const std::string& name, const std::string& what) {
    plan_.failures.push_back(name + ": " + what);
    fmt::print(stderr, "MISMATCH {}: {}\n", name, what);
    AddFailed(name, "MISMATCH: " + what);
  }

 private:
  void Register(const std::string& name, double single_s, std::function<void(benchmark::State&)> fn,
                bool timed_elsewhere) {
    auto* b = benchmark::RegisterBenchmark(
        name.c_str(), [fn, progress = progress_, index = plan_.runs.size(), min_time = s_.min_time_s,
                       fixed = timed_elsewhere || single_s > 1.0](benchmark::State& st) {
          if (Interrupted()) {
            st.SkipWithError("interrupted: not measured (the sweep was stopped by a signal)");
            for (auto _ : st) {
            }
            return;
          }
          if (progress) progress->Running(index);
          const auto start = std::chrono::steady_clock::now();
          if (Counting()) ArenaBegin();
          fn(st);
          if (Counting()) ArenaEnd();
          // Google Benchmark calls the function more than once per repetition while it finds the
          // iteration count for the min time: only a call that lasted the min time ended one.
          const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          if (progress && (fixed || took >= 0.9 * min_time)) progress->RepetitionDone(index);
        });
    b->Unit(benchmark::kMillisecond)->DisplayAggregatesOnly(true);
    if (Counting()) {  // counting.h: one iteration that warms the simulated caches, one counted
      b->Iterations(kCountingIterations)->Repetitions(1);
      plan_.runs.push_back({name, kCountingIterations * single_s * 50, 1});  // Callgrind: about 50x
      return;
    }
    int reps = s_.repetitions;
    if (single_s > 1.0) reps = std::min(reps, 3);  // slow: fewer repetitions
    if (timed_elsewhere) {
      b->UseManualTime()->Iterations(1);
    } else if (single_s > 1.0) {
      b->UseRealTime()->Iterations(1);
    } else {
      b->UseRealTime()->MinTime(s_.min_time_s);
    }
    b->Repetitions(reps);
    // Google Benchmark probes iteration counts before each timed repetition: about 1.5x min time.
    plan_.runs.push_back({name, reps * (std::max(single_s, s_.min_time_s) * 1.5 + single_s), reps});
  }

  // A benchmark that reports `message` as its error instead of a time, so the results list it.
  void AddFailed(const std::string& name, const std::string& message) {
    benchmark::RegisterBenchmark(name.c_str(), [message, progress = progress_, index = plan_.runs.size()](benchmark::State& st) {
      st.SkipWithError(message.c_str());
      for (auto _ : st) {
      }
      if (progress) progress->RepetitionDone(index);
    })->Iterations(1)->Repetitions(1);
    plan_.runs.push_back({name, 0, 1});
  }

  // kind/algorithm/...: the algorithm is naive (both references' name), warm or not.
  static bool IsReference(const std::string& name) {
    const size_t a = name.find('/');
    if (a == std::string::npos) return false;
    const std::string_view algorithm = std::string_view(name).substr(a + 1, name.find_first_of("/:", a + 1) - a - 1);
    return algorithm == kReferenceTrainer || algorithm == kReferenceEncoder;
  }

  const Settings& s_;
  Plan& plan_;
  ProgressSink* progress_;
  bool references_noted_ = false;
};

// Prints "check NAME ..." and counts it for the progress display (checks run before the benchmarks).
void Check(const std::string& name);

// tiktoken's vocabulary `name` (gpt2, cl100k_base, o200k_base), loaded once per sweep from its rank
// file with merges derived from the ranks: our production rows, the adversarial rows and the peers'
// checks share it. Throws as LoadTiktoken.
struct Production {
  std::shared_ptr<const Model> model;
  std::shared_ptr<const Vocabulary> vocab;
};
const Production& LoadProduction(const std::string& name);

// peer_sweep.cpp: the peer rows for one corpus (models: the agreed merge lists per vocab size), the
// peers' versions for the results' context, and stopping the peers' processes and temporary files.
// train_only: the training rows alone (the synthetic text, which has no held-out part).
void PeerBenchmarks(const Settings& s, Registrar& reg, Plan& plan, const std::shared_ptr<CorpusData>& c,
                    const PreTokenizer& pre, const std::map<uint32_t, MergeList>& models, bool train_only = false);
void AddPeerContext();
// The plug-in peers that gave our ids, id for id, for a corpus's whole held-out text with one of
// tiktoken's vocabularies (from the peer check runs, which come before our production rows).
std::vector<std::string> AgreeingPeers(const std::string& corpus, const std::string& vocabulary);
// Every peer's name (sentencepiece and the plug-ins found), for checking --algorithms; manifests that
// cannot be read are added to `problems`.
std::vector<std::string> PeerNames(const Settings& s, std::vector<std::string>* problems);
void FinishPeers();

}  // namespace bpe::harness

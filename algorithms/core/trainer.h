// The trainer interface: word counts + options in, merge list out. A trainer never reads files or
// pre-tokenizes; it sees only the distinct pieces and their counts (HF's Trainer, sentencepiece's
// TrainerInterface).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "algorithms/core/types.h"

namespace bpe {

struct TrainProgress {
  size_t merges_done = 0;
  size_t merges_target = 0;
  uint64_t last_count = 0;  // count of the pair merged last
};

struct TrainOptions {
  uint32_t vocab_size = 10000;  // 256 byte tokens + merges; must be >= 256
  uint64_t min_frequency = 1;   // stop when the best pair occurs fewer times than this
  int threads = 1;              // trainers that are not parallel ignore it
  // `sharded` only: its number of shards, each with a thread of its own. 0: one per thread, at most
  // the hardware threads. The tests set it, to run 3 or 8 shards on any machine.
  int shards = 0;
  // Called now and then from the training thread (about every 64 merges) when set.
  std::function<void(const TrainProgress&)> progress;
  // Called (when set) by a trainer that no longer reads the counts once it has built its own tables,
  // before its merge loop: a caller that owns the counts may free them then (the CLI does: on web-like
  // text they are 40-odd bytes of every distinct piece's share of the peak). `linked` and `sharded`
  // call it.
  std::function<void()> input_done;
};

enum class StopReason {
  kVocabSize,     // reached vocab_size
  kMinFrequency,  // the best pair occurred fewer than min_frequency times
  kNoPairs,       // every piece is a single token: the corpus cannot reach vocab_size
};
std::string_view StopReasonText(StopReason reason);

// One of a trainer's largest structures and the bytes it held at the point its name says (when the
// trainer had built its tables, or at the end of the merge loop), for `bpebench train --verbose`
// and docs/performance.md's memory bound.
struct MemoryUse {
  std::string what;
  uint64_t bytes = 0;
};

struct TrainResult {
  MergeList merges;
  StopReason stop = StopReason::kVocabSize;
  // Seconds from the start of Train to the first merge: building the trainer's tables from the
  // counts (symbols, pair counts, the queue). The rest of Train is the merge loop.
  double build_seconds = 0;
  // Set by the trainers that report it (`linked`, `sharded`); empty otherwise.
  std::vector<MemoryUse> memory;
};

class Trainer {
 public:
  virtual ~Trainer() = default;
  // Deterministic: the same counts and options give the same merges whatever the order of counts.
  virtual TrainResult Train(const WordCounts& counts, const TrainOptions& options) const = 0;
};

// Bookkeeping every trainer shares: the stop rule and progress reports, so that the trainers differ
// only in how they find the best pair.
class MergeLoop {
 public:
  explicit MergeLoop(const TrainOptions& options);

  size_t target() const { return target_; }
  bool Done() const { return result_.merges.size() >= target_; }
  TokenId NextId() const { return MergedId(result_.merges.size()); }

  // Offers the best pair of this step. Returns false, and records why, when training must stop
  // instead: count 0 means there is no pair at all.
  bool Accept(Pair best, uint64_t count);
  // Notes one of the trainer's structures for TrainResult::memory.
  void NoteMemory(std::string what, uint64_t bytes) { result_.memory.push_back({std::move(what), bytes}); }

  TrainResult Finish() &&;

 private:
  void MarkBuilt();

  const TrainOptions& options_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  bool built_ = false;
  size_t target_;
  TrainResult result_;
};

}  // namespace bpe

// The trainer interface: word counts + options in, merge list out. A trainer never reads files or
// pre-tokenizes; it sees only the distinct pieces and their counts (HF's Trainer, sentencepiece's
// TrainerInterface).
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
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
  // Called now and then from the training thread (about every 64 merges) when set.
  std::function<void(const TrainProgress&)> progress;
};

enum class StopReason {
  kVocabSize,     // reached vocab_size
  kMinFrequency,  // the best pair occurred fewer than min_frequency times
  kNoPairs,       // every piece is a single token: the corpus cannot reach vocab_size
};
std::string_view StopReasonText(StopReason reason);

struct TrainResult {
  MergeList merges;
  StopReason stop = StopReason::kVocabSize;
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

  TrainResult Finish() && { return std::move(result_); }

 private:
  const TrainOptions& options_;
  size_t target_;
  TrainResult result_;
};

// The candidate queue of the incremental trainers: a max-heap of (count, pair) in BetterCandidate
// order with lazy invalidation. Counts only change by merges; an entry whose count fell is re-pushed
// with the live count when it surfaces (dropped at 0), and the caller pushes a new entry for every
// pair whose count grew, so the heap always holds an entry at least as good as each live count and
// the first current entry popped is the true best by the tie rule.
class LazyPairHeap {
 public:
  struct Candidate {
    uint64_t count;
    Pair pair;
    // Max-heap order: "a < b" when b is the better candidate.
    bool operator<(const Candidate& b) const { return BetterCandidate(b.count, b.pair, count, pair); }
  };
  LazyPairHeap() = default;
  explicit LazyPairHeap(std::vector<Candidate> initial)  // heapified in O(n)
      : heap_(std::less<Candidate>(), std::move(initial)) {}

  void Push(uint64_t count, Pair pair) { heap_.push({count, pair}); }

  // The best pair whose entry matches live(pair), its live count; {{}, 0} when none is left.
  template <typename LiveCount>
  Candidate PopBest(LiveCount&& live) {
    while (!heap_.empty()) {
      const Candidate top = heap_.top();
      heap_.pop();
      const uint64_t now = live(top.pair);
      if (now == top.count) return top;
      if (now > 0) heap_.push({now, top.pair});
    }
    return {0, {}};
  }

 private:
  std::priority_queue<Candidate> heap_;
};

}  // namespace bpe

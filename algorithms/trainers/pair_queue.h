// The candidate queue of the incremental trainers (pq, linked, sharded).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

#include "algorithms/core/types.h"

namespace bpe {

// The candidate queue of the incremental trainers: (count, pair) entries, taken best first in
// BetterCandidate order, with lazy invalidation. Counts only change by merges; an entry whose count
// fell is moved to the live count when it surfaces (dropped at 0), and the caller pushes a new
// entry for every pair whose count grew, so the queue always holds an entry at least as good as
// each live count and the first current entry taken is the true best by the tie rule.
// Two parts (as Re-Pair keeps its rare pairs in buckets):
//   - counts from kBuckets up: a 4-ary max-heap (half the levels of a binary heap, and a node's
//     children share a cache line), whose stale top is sifted down in place;
//   - smaller counts: one bucket per count, its pair keys taken smallest first (the tie rule within
//     a count; see Bucket), from the highest bucket that holds any once the heap is empty.
// Most entries are of pairs with small counts that are never merged (the pushes of the merges
// late in training): in buckets they are appended to small arrays where one heap would hold them
// all, and the merges late in training pop from the bucket of their count, not from one heap of
// every entry. `linked` on gutenberg93 at vocab 30000 spends about 1,100 cycles a pop in its merges of
// fewer than 8 positions, against 1,700 with one heap.
class LazyPairQueue {
 public:
  struct Candidate {
    uint64_t count;
    Pair pair;
  };
  LazyPairQueue() = default;
  explicit LazyPairQueue(const std::vector<Candidate>& initial) {  // O(n)
    for (const Candidate& c : initial) {
      if (c.count >= kBuckets) {
        heap_.push_back(c);
      } else if (c.count != 0) {
        PushSmall(c.count, PairKey(c.pair));
      }
    }
    if (heap_.size() >= 2) {
      for (size_t i = (heap_.size() - 2) / kArity + 1; i-- > 0;) SiftDown(i);  // from the last parent
    }
  }

  void Push(uint64_t count, Pair pair) {
    if (count >= kBuckets) {
      heap_.push_back({count, pair});
      SiftUp(heap_.size() - 1);
    } else if (count != 0) {
      PushSmall(count, PairKey(pair));
    }
  }

  // Bytes held by the entries (for the trainers' memory report).
  size_t bytes() const {
    size_t b = heap_.capacity() * sizeof(Candidate) + buckets_.capacity() * sizeof(Bucket);
    for (const Bucket& bucket : buckets_) b += bucket.bytes();
    return b;
  }

  // The best pair whose entry matches live(pair), its live count; {0, {}} when none is left.
  template <typename LiveCount>
  Candidate PopBest(LiveCount&& live) {
    while (true) {
      if (!heap_.empty()) {
        const Candidate top = heap_.front();
        const uint64_t now = live(top.pair);
        if (now == top.count || now < kBuckets) {
          heap_.front() = heap_.back();
          heap_.pop_back();
          if (!heap_.empty()) SiftDown(0);
          if (now == top.count) return top;
          if (now != 0) PushSmall(now, PairKey(top.pair));
        } else {
          heap_.front().count = now;  // lower, or (an entry pushed before its pair grew) higher
          SiftDown(0);
        }
        continue;
      }
      while (top_ != 0 && buckets_[top_].empty()) --top_;
      if (top_ == 0) return {0, {}};
      const uint64_t key = buckets_[top_].PopSmallest();
      const uint64_t now = live(PairFromKey(key));
      if (now == top_) return {now, PairFromKey(key)};
      Push(now, PairFromKey(key));  // lower or (pushed before its pair grew) higher; none at 0
    }
  }

 private:
  static constexpr size_t kArity = 4;
  static constexpr size_t kBuckets = 4096;  // counts below go to buckets

  static bool Better(const Candidate& a, const Candidate& b) {
    return BetterCandidate(a.count, a.pair, b.count, b.pair);
  }
  // The keys of one count. Until the bucket is first taken from, its keys are only appended; the
  // first pop sorts them, and the pops after take the smaller of the sorted run's next key and the
  // top of a min-heap of the keys pushed since. An emptied bucket goes back to appending. Most
  // entries are never taken (the small counts of pairs never merged), and a sorted run is read
  // in order where a heap's pop walks down its levels. Against a min-heap per bucket, in-process:
  // `linked` on gutenberg93 at vocab 30000 takes 0.96-0.97x the time; `pq` on gutenberg5 is even.
  class Bucket {
   public:
    bool empty() const { return next_ == run_.size() && late_.empty(); }
    size_t bytes() const { return (run_.capacity() + late_.capacity()) * sizeof(uint64_t); }
    void Push(uint64_t key) {
      if (!sorted_) {
        run_.push_back(key);
      } else {
        late_.push_back(key);
        std::push_heap(late_.begin(), late_.end(), std::greater<>());
      }
    }
    uint64_t PopSmallest() {  // not empty
      if (!sorted_) {
        std::sort(run_.begin(), run_.end());
        sorted_ = true;
      }
      uint64_t key;
      if (next_ < run_.size() && (late_.empty() || run_[next_] < late_.front())) {
        key = run_[next_++];
      } else {
        std::pop_heap(late_.begin(), late_.end(), std::greater<>());
        key = late_.back();
        late_.pop_back();
      }
      if (empty()) {
        run_.clear();
        next_ = 0;
        sorted_ = false;
      }
      return key;
    }

   private:
    std::vector<uint64_t> run_;   // sorted from next_ on once sorted_
    size_t next_ = 0;
    bool sorted_ = false;
    std::vector<uint64_t> late_;  // min-heap: the keys pushed while sorted_
  };

  void PushSmall(uint64_t count, uint64_t key) {
    if (count >= buckets_.size()) buckets_.resize(count + 1);  // made as counts need them
    buckets_[count].Push(key);
    top_ = std::max(top_, static_cast<size_t>(count));
  }
  void SiftUp(size_t i) {
    const Candidate x = heap_[i];
    while (i > 0) {
      const size_t parent = (i - 1) / kArity;
      if (!Better(x, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = x;
  }
  void SiftDown(size_t i) {
    const size_t n = heap_.size();
    const Candidate x = heap_[i];
    while (true) {
      const size_t first = kArity * i + 1;
      if (first >= n) break;
      size_t best = first;
      for (size_t c = first + 1; c < std::min(first + kArity, n); ++c) {
        if (Better(heap_[c], heap_[best])) best = c;
      }
      if (!Better(heap_[best], x)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = x;
  }

  std::vector<Candidate> heap_;                 // counts from kBuckets
  std::vector<Bucket> buckets_;  // by count (below kBuckets, made as needed)
  size_t top_ = 0;                              // no bucket above it holds an entry
};

}  // namespace bpe

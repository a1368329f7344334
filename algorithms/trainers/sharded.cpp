// Trainer `sharded`: `linked` (exact occurrence positions, Re-Pair) with the distinct pieces split
// into one shard per thread, as the fast multi-threaded C++ trainers split their words. Each shard
// holds, for its pieces only, the pair -> occurrence positions table (occurrences.h); the symbols
// are one array, and a shard touches only its own pieces' range of it. The pair counts and the
// heap are global and serial.
//
// A merge:
//   1. pops the best pair from the global heap (lazy invalidation, as `pq` and `linked`);
//   2. applies it in every shard: each visits its recorded positions of the pair, rewrites the
//      symbols, records the new pairs' positions in its own table, and sums the count changes per
//      neighbour token in small tables of its own (a few dozen entries for most merges, where the
//      positions run to thousands);
//   3. adds the shards' summed changes to the global counts, and pushes the pairs that grew.
// Step 2 runs on all threads at once (algorithms/core/parallel.h) when the pair has at least
// kParallelFrom recorded positions; for a smaller one (most merges: on gutenberg5 at vocab 10000
// only 19 of the 10,000 have 2,000 or more, holding 18% of all positions; on gutenberg93, 298 have
// 1024 or more) the calling thread applies the shards one after the other, because waking the
// workers costs more than the work. Building the symbols and every shard's initial positions and
// counts is parallel too.
//
// The counts are exact 64-bit sums whatever the sharding, and the heap picks by (count, pair), so
// the merges are the same for every thread count and equal `naive`'s (tests/trainer_test.cpp).
// Memory: that of `linked` plus a second hash map (the global counts, one entry per live pair).
#include <cstdlib>

#include "algorithms/core/error.h"
#include "algorithms/core/parallel.h"
#include "algorithms/core/trainer.h"
#include "algorithms/trainers/occurrences.h"

namespace bpe {
namespace {

using namespace occurrences;

// A merge runs its shards in parallel from this many recorded positions of its pair (all shards).
// The environment variable BPEBENCH_SHARDED_PARALLEL_FROM overrides it, for tuning and for the
// tests, which set 0 so that every merge takes the parallel path.
constexpr size_t kParallelFrom = 1024;

size_t ParallelFrom() {
  const char* env = std::getenv("BPEBENCH_SHARDED_PARALLEL_FROM");
  return env != nullptr && *env != '\0' ? std::strtoull(env, nullptr, 10) : kParallelFrom;
}

struct Count {
  uint64_t count = 0;
  uint32_t grown_in = 0;  // the last merge step (1-based) in which the count grew
};

// Padded to kFalseSharingBytes: the shards sit side by side in one vector and their threads write
// them all through a merge.
struct alignas(kFalseSharingBytes) Shard {
  uint32_t first_word = 0, end_word = 0;  // its pieces: [first_word, end_word)
  PairTable pairs;                         // its pieces' positions (and, while building, counts)
  MergeChanges changes;                    // of the current merge
  uint32_t merged = kNone;  // this merge's pair's slot here, found before Apply releases it; kNone: none here
};

class Run {
 public:
  TrainResult Train(const WordCounts& counts, const TrainOptions& options) {
    MergeLoop loop(options);
    Build(counts, std::max(options.threads, 1));
    const size_t parallel_from = ParallelFrom();

    for (step_ = 1; !loop.Done(); ++step_) {
      const auto best = heap_.PopBest([&](Pair p) { return Live(PairKey(p)); });
      const TokenId z = loop.NextId();
      if (!loop.Accept(best.pair, best.count)) break;
      const uint64_t key = PairKey(best.pair);

      size_t recorded = 0;
      for (Shard& s : shards_) {
        s.merged = s.pairs.Find(key);
        if (s.merged != kNone) recorded += s.pairs[s.merged].positions.size();
      }
      auto apply = [&](size_t s) { Apply(shards_[s], best.pair, z); };
      if (shards_.size() > 1 && recorded >= parallel_from) {
        RunParallel(shards_.size(), apply);
      } else {
        for (size_t s = 0; s < shards_.size(); ++s) apply(s);
      }
      counts_.erase(key);
      Collect(best.pair, z);
      for (const uint64_t grown : grown_) {
        if (const uint64_t now = Live(grown)) heap_.Push(now, PairFromKey(grown));
      }
      grown_.clear();
    }
    return std::move(loop).Finish();
  }

 private:
  // The symbols of every piece that can hold a pair, end to end; the shards (contiguous runs of
  // pieces with about the same number of symbols each); their positions and the global counts.
  void Build(const WordCounts& counts, int threads) {
    std::vector<const WordCount*> words;
    std::vector<uint32_t> word_start;  // per piece, and the end
    uint64_t total = 0;
    for (const WordCount& wc : counts) {
      if (wc.word.size() < 2) continue;
      words.push_back(&wc);
      word_start.push_back(static_cast<uint32_t>(std::min<uint64_t>(total, kNone)));
      weight_.push_back(wc.count);
      total += wc.word.size();
    }
    if (total >= kNone) {
      Fail("the distinct pieces hold {} bytes; the sharded trainer handles at most {}", total, kNone - 1);
    }
    word_start.push_back(static_cast<uint32_t>(total));
    sym_.resize(total);

    const size_t n = words.size();
    const size_t parts = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(threads), n));
    shards_.resize(parts);
    for (size_t s = 0, w = 0; s < parts; ++s) {
      shards_[s].first_word = static_cast<uint32_t>(w);
      const uint64_t until = total * (s + 1) / parts;
      while (w < n && (s + 1 == parts || word_start[w + 1] <= until)) ++w;
      shards_[s].end_word = static_cast<uint32_t>(w);
    }

    RunParallel(parts, [&](size_t s) {
      Shard& shard = shards_[s];
      for (uint32_t w = shard.first_word; w < shard.end_word; ++w) {
        LayOut(sym_, words[w]->word, word_start[w], w);
        for (uint32_t i = word_start[w]; i + 1 < word_start[w + 1]; ++i) {
          PairData& d = shard.pairs[shard.pairs.SlotOf(PairKey({sym_[i].tok, sym_[i + 1].tok}))];
          d.count += weight_[w];
          d.positions.push_back(i);
        }
      }
    });
    for (const Shard& shard : shards_) {
      for (const auto& [key, slot] : shard.pairs.index()) counts_[key].count += shard.pairs[slot].count;
    }
    std::vector<LazyPairHeap::Candidate> candidates;
    candidates.reserve(counts_.size());
    for (const auto& [key, c] : counts_) candidates.push_back({c.count, PairFromKey(key)});
    heap_ = LazyPairHeap(std::move(candidates));
  }

  // Step 2 of a merge in one shard: the symbols and positions of its pieces, and its count changes.
  void Apply(Shard& shard, Pair pair, TokenId z) {
    if (shard.merged == kNone) return;
    std::vector<uint32_t> where = std::move(shard.pairs[shard.merged].positions);
    shard.pairs.Release(shard.merged);
    VisitOccurrences(sym_, weight_, where, pair, z, shard.pairs, shard.changes);
  }

  // Step 3: the shards' count changes into the global counts. A count that reaches zero has no
  // live occurrence left: the pair and its (stale) positions in every shard are dropped, but only
  // once every shard's changes are in (a pair with the new token may lose in one shard what it
  // gains in another).
  void Collect(Pair pair, TokenId z) {
    for (Shard& shard : shards_) {
      if (shard.merged == kNone) continue;  // its changes are an earlier merge's
      ForEachLost(shard.changes, pair, [&](uint64_t key, uint64_t delta) {
        if (const auto it = counts_.find(key); it != counts_.end()) {  // not the merged pair
          it->second.count -= delta;
          touched_.push_back(key);
        }
      });
      ForEachGained(shard.changes, z, [&](uint64_t key, uint32_t, uint64_t delta) {
        Count& c = counts_[key];
        c.count += delta;
        if (c.grown_in != step_) {
          c.grown_in = step_;
          grown_.push_back(key);
        }
        touched_.push_back(key);
      });
    }
    for (const uint64_t key : touched_) {
      const auto it = counts_.find(key);
      if (it == counts_.end() || it->second.count != 0) continue;
      counts_.erase(it);
      for (Shard& s : shards_) {
        if (const uint32_t slot = s.pairs.Find(key); slot != kNone) s.pairs.Release(slot);
      }
    }
    touched_.clear();
  }

  uint64_t Live(uint64_t key) const {
    const auto it = counts_.find(key);
    return it == counts_.end() ? 0 : it->second.count;
  }

  std::vector<Symbol> sym_;
  std::vector<uint64_t> weight_;  // per piece
  std::vector<Shard> shards_;
  boost::unordered_flat_map<uint64_t, Count> counts_;
  LazyPairHeap heap_;
  uint32_t step_ = 0;              // the merge being applied, from 1
  std::vector<uint64_t> grown_;    // pairs (all holding the new id) whose count grew in it, once each
  std::vector<uint64_t> touched_;  // pairs whose count changed in it (Collect's scratch)
};

class ShardedTrainer final : public Trainer {
 public:
  TrainResult Train(const WordCounts& counts, const TrainOptions& options) const override {
    return Run().Train(counts, options);
  }
};

}  // namespace

std::unique_ptr<Trainer> MakeShardedTrainer() { return std::make_unique<ShardedTrainer>(); }

}  // namespace bpe

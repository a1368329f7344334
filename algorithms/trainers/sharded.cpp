// Trainer `sharded`: `linked` (exact occurrence positions, Re-Pair) with the distinct pieces split
// into one shard per thread, as the fast multi-threaded C++ trainers split their words. Each shard
// holds, for its pieces only, the pair -> occurrence positions index; the symbols (token, prev,
// next) are one array, and a shard touches only its own pieces' range of it. The pair counts and
// the heap are global and serial.
//
// A merge:
//   1. pops the best pair from the global heap (lazy invalidation, as `pq` and `linked`);
//   2. applies it in every shard: each visits its recorded positions of the pair, rewrites the
//      symbols, records the new pairs' positions in its own index, and sums the count changes in a
//      small table of its own, one entry per pair touched (a few dozen for most merges, where the
//      positions run to thousands);
//   3. adds the shards' summed changes to the global counts, and pushes the pairs that grew.
// Step 2 runs on all threads at once (algorithms/core/parallel.h) when the pair has at least
// kParallelFrom recorded positions; for a smaller one (most merges: on gutenberg5 at vocab 10000
// only 19 of the 10,000 have 2,000 or more, holding 18% of all positions; on gutenberg93, 298 have
// 1024 or more) the calling thread applies the shards one after the other, because waking the
// workers costs more than the work. Building the
// index (the symbols and every shard's initial positions and counts) is parallel too.
//
// The counts are exact 64-bit sums whatever the sharding, and the heap picks by (count, pair), so
// the merges are the same for every thread count and equal `naive`'s (tests/trainer_test.cpp).
// Memory: that of `linked` plus a second hash map (the global counts, one entry per live pair).
#include <algorithm>
#include <cstdlib>
#include <boost/unordered/unordered_flat_map.hpp>

#include "algorithms/core/error.h"
#include "algorithms/core/parallel.h"
#include "algorithms/core/trainer.h"

namespace bpe {
namespace {

constexpr uint32_t kNone = UINT32_MAX;  // no neighbour (a piece boundary)
constexpr TokenId kDead = UINT32_MAX;   // a symbol merged into its left neighbour
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

// A count change summed within one shard and one merge. Counts are unsigned: the change is kept
// modulo 2^64, which adds up to the right count because the true count never goes below zero.
struct Change {
  uint64_t delta = 0;
  bool grew = false;  // an occurrence was added (the pair holds the new token)
};

// Padded to kFalseSharingBytes: the shards sit side by side in one vector and their threads write
// them (the maps' sizes, last_word) all through a merge.
struct alignas(kFalseSharingBytes) Shard {
  uint32_t first_word = 0, end_word = 0;  // its pieces: word_start_[first_word .. end_word)
  boost::unordered_flat_map<uint64_t, std::vector<uint32_t>> positions;  // may hold stale ones
  boost::unordered_flat_map<uint64_t, Change> changes;                   // of the current merge
  uint32_t last_word = 0;                                                // WeightAt's guess
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
      for (const Shard& s : shards_) {
        if (const auto it = s.positions.find(key); it != s.positions.end()) recorded += it->second.size();
      }
      auto apply = [&](size_t s) { Apply(shards_[s], best.pair, z); };
      if (shards_.size() > 1 && recorded >= parallel_from) {
        RunParallel(shards_.size(), apply);
      } else {
        for (size_t s = 0; s < shards_.size(); ++s) apply(s);
      }
      counts_.erase(key);
      Collect();
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
    uint64_t total = 0;
    for (const WordCount& wc : counts) {
      if (wc.word.size() < 2) continue;
      word_start_.push_back(static_cast<uint32_t>(std::min<uint64_t>(total, kNone)));
      weight_.push_back(wc.count);
      total += wc.word.size();
    }
    if (total >= kNone) {
      Fail("the distinct pieces hold {} bytes; the sharded trainer handles at most {}", total, kNone - 1);
    }
    word_start_.push_back(static_cast<uint32_t>(total));
    std::vector<const WordCount*> words;
    words.reserve(weight_.size());
    for (const WordCount& wc : counts) {
      if (wc.word.size() >= 2) words.push_back(&wc);
    }
    tok_.resize(total);
    prev_.resize(total);
    next_.resize(total);

    const size_t n = weight_.size();
    const size_t parts = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(threads), n));
    shards_.resize(parts);
    for (size_t s = 0, w = 0; s < parts; ++s) {
      shards_[s].first_word = static_cast<uint32_t>(w);
      const uint64_t until = total * (s + 1) / parts;
      while (w < n && (s + 1 == parts || word_start_[w + 1] <= until)) ++w;
      shards_[s].end_word = static_cast<uint32_t>(w);
      shards_[s].last_word = shards_[s].first_word;
    }

    std::vector<Padded<boost::unordered_flat_map<uint64_t, uint64_t>>> initial(parts);
    RunParallel(parts, [&](size_t s) {
      Shard& shard = shards_[s];
      for (uint32_t w = shard.first_word; w < shard.end_word; ++w) {
        const std::string& word = words[w]->word;
        const uint32_t at = word_start_[w];
        for (uint32_t i = 0; i < word.size(); ++i) {
          tok_[at + i] = static_cast<uint8_t>(word[i]);
          prev_[at + i] = i == 0 ? kNone : at + i - 1;
          next_[at + i] = i + 1 == word.size() ? kNone : at + i + 1;
        }
        for (uint32_t i = at; i + 1 < word_start_[w + 1]; ++i) {
          const uint64_t key = PairKey({tok_[i], tok_[i + 1]});
          initial[s].value[key] += weight_[w];
          shard.positions[key].push_back(i);
        }
      }
    });
    for (const auto& part : initial) {
      for (const auto& [key, count] : part.value) counts_[key].count += count;
    }
    std::vector<LazyPairHeap::Candidate> candidates;
    candidates.reserve(counts_.size());
    for (const auto& [key, c] : counts_) candidates.push_back({c.count, PairFromKey(key)});
    heap_ = LazyPairHeap(std::move(candidates));
  }

  // Step 2 of a merge in one shard: the symbols and positions of its pieces, and its count changes.
  void Apply(Shard& shard, Pair pair, TokenId z) {
    const auto found = shard.positions.find(PairKey(pair));
    if (found == shard.positions.end()) return;
    std::vector<uint32_t> where = std::move(found->second);
    shard.positions.erase(found);
    const TokenId a = pair.left, b = pair.right;
    // Occurrences of (a,a) overlap in runs: they must be taken left to right ("aaa" -> [aa, a]).
    // Occurrences of (a,b) with a != b cannot overlap, so their order does not matter.
    if (a == b) std::sort(where.begin(), where.end());
    for (const uint32_t i : where) {
      if (tok_[i] != a) continue;  // stale: this symbol changed or was merged away
      const uint32_t j = next_[i];
      if (j == kNone || tok_[j] != b) continue;
      const uint64_t w = WeightAt(shard, i);
      const uint32_t p = prev_[i], n = next_[j];
      if (p != kNone) {
        shard.changes[PairKey({tok_[p], a})].delta -= w;
        Added(shard, PairKey({tok_[p], z}), w, p);
      }
      if (n != kNone) {
        shard.changes[PairKey({b, tok_[n]})].delta -= w;
        Added(shard, PairKey({z, tok_[n]}), w, i);
      }
      tok_[i] = z;
      tok_[j] = kDead;
      next_[i] = n;
      if (n != kNone) prev_[n] = i;
    }
  }
  void Added(Shard& shard, uint64_t key, uint64_t w, uint32_t position) {
    Change& c = shard.changes[key];
    c.delta += w;
    c.grew = true;
    shard.positions[key].push_back(position);
  }

  // Step 3: the shards' count changes into the global counts. A count that reaches zero has no
  // live occurrence left: the pair and its (stale) positions in every shard are dropped, but only
  // once every shard's changes are in (a pair with the new token may lose in one shard what it
  // gains in another).
  void Collect() {
    for (Shard& shard : shards_) {
      for (const auto& [key, change] : shard.changes) {
        Count& c = counts_[key];
        c.count += change.delta;
        if (change.grew && c.grown_in != step_) {
          c.grown_in = step_;
          grown_.push_back(key);
        }
        touched_.push_back(key);
      }
      // clear() walks the whole table: one that grew in a big merge is replaced instead.
      if (shard.changes.bucket_count() > 4096) {
        shard.changes = {};
      } else {
        shard.changes.clear();
      }
    }
    for (const uint64_t key : touched_) {
      const auto it = counts_.find(key);
      if (it == counts_.end() || it->second.count != 0) continue;
      counts_.erase(it);
      for (Shard& s : shards_) s.positions.erase(key);
    }
    touched_.clear();
  }

  uint64_t Live(uint64_t key) const {
    const auto it = counts_.find(key);
    return it == counts_.end() ? 0 : it->second.count;
  }
  // The count of the piece that holds symbol i, which lies in shard's pieces. Merges visit
  // positions mostly in order, so the piece found last is tried first.
  uint64_t WeightAt(Shard& shard, uint32_t i) const {
    uint32_t& w = shard.last_word;
    if (i < word_start_[w] || i >= word_start_[w + 1]) {
      const auto begin = word_start_.begin() + shard.first_word, end = word_start_.begin() + shard.end_word;
      w = static_cast<uint32_t>(std::upper_bound(begin, end, i) - word_start_.begin() - 1);
    }
    return weight_[w];
  }

  std::vector<TokenId> tok_;
  std::vector<uint32_t> prev_, next_;
  std::vector<uint32_t> word_start_;  // per piece, and the end
  std::vector<uint64_t> weight_;
  std::vector<Shard> shards_;
  boost::unordered_flat_map<uint64_t, Count> counts_;
  LazyPairHeap heap_;
  uint32_t step_ = 0;            // the merge being applied, from 1
  std::vector<uint64_t> grown_;  // pairs (all holding the new id) whose count grew in it, once each
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

// Trainer `sharded`: `linked` (exact occurrence positions, Re-Pair) with the distinct pieces dealt
// into one shard per thread, as the fast multi-threaded C++ trainers split their words, and the
// larger merges applied by all threads at once. A shard holds, for its pieces only, the symbols and the
// pair -> {count, occurrence positions} table (occurrences.h): a pair's count is the sum of its
// shards' counts, so there is no global count map. The queue (pair_queue.h's LazyPairQueue) is global.
//
// The threads stay in one RunParallel call for the whole training. A merge, with the calling
// thread as the leader:
//   1. the leader pops the best pair from the queue (lazy invalidation, as `pq` and `linked`; a
//      popped entry is checked against the sum of the shards' counts) and looks it up in every
//      shard;
//   2. the merge is applied in every shard: visit its recorded positions, rewrite the symbols,
//      record the new pairs' positions, sum the count changes per neighbour token (MergeChanges)
//      and apply them to the shard's counts. From kParallelFrom recorded positions (all shards)
//      this is a round: the leader publishes the merge and every thread applies it to its own
//      shard at once (parallel.h's Signal: spinning, no system call, while the merges come
//      microseconds apart; a round trip took 0.3 us on the 2-vCPU VM). A smaller merge the
//      leader applies in every shard itself, which costs less than a round;
//   3. the leader adds up the new pairs' gains over the shards (a pair holding the new id has no
//      count before this merge, so its count is the sum of the gains) and pushes them; in a round
//      it adds its own shard's gains while the others may still be applying.
// The old pairs only lose, which needs no push: their shards lower their counts in step 2.
// Building the shards (symbols, first counts and positions) is parallel too.
//
// Costs and gains: a round's fixed costs (the signals, and each shard's share of a merge, which is
// uneven from round to round) are about 1-1.5 us on the 2-vCPU VM, as much as a small merge's
// work, and two shards cost more than one for the small merges applied serially (a lookup per
// shard for every pair popped, gains summed over the shards). In-process on the 2-vCPU VM, from
// word counts, 2 threads took 0.64-1.18x the time of one on gutenberg5 at vocab 10000 (3 MB;
// 34 recorded positions a merge on average), 1.11-1.13x at vocab 50000 (40,000 more merges of a
// few positions each) and 0.80-1.11x on gutenberg93 (63 MB) at vocab 30000: which end of the
// range depends on the spell the VM is in.
//
// The counts are exact 64-bit sums whatever the sharding, and the queue picks by (count, pair), so
// the merges are the same for every thread count and equal `naive`'s (tests/trainer_test.cpp).
// Threads beyond the hardware's are not used: a thread that spins for a round needs a core of its
// own. Memory: that of `linked`, plus one pair table entry per shard a pair occurs in.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <thread>

#include "algorithms/core/error.h"
#include "algorithms/runtime/parallel.h"
#include "algorithms/core/trainer.h"
#include "algorithms/trainers/pair_queue.h"
#include "algorithms/trainers/occurrences.h"

namespace bpe {
namespace {

using namespace occurrences;

// Padded to kFalseSharingBytes: the shards sit side by side in one vector and their threads write
// them all through a merge.
template <typename S>
struct alignas(kFalseSharingBytes) ShardOf {
  std::vector<const WordCount*> words;      // its pieces
  uint64_t bytes = 0;                       // their bytes: its symbols
  std::vector<S> sym;                       // positions are indexes into it
  PieceWeights weight;                      // per symbol of the shard
  PairTable pairs;                          // its pieces' pair counts and positions
  MergeChanges changes;                     // of the current merge
  LostScratch lost;                         // ApplyLost's scratch
  uint32_t merged = kNone;                  // the current merge's pair's slot here; kNone: not here
};

// A merge goes to the threads (a round) from this many recorded positions of its pair, over all
// shards; the leader applies a smaller one in every shard itself. In-process on gutenberg5,
// 2 threads, 101 alternating runs, medians: with every merge in rounds 42.5 / 160 ms at vocab
// 10000 / 50000; from 64 positions 39.0 / 95.8 ms; from 256, 40.3 / 107 ms; from 1024, 42.4 / 105
// ms. The environment variable BPEBENCH_SHARDED_PARALLEL_FROM
// overrides it (the tests set 0 and a huge value, to take each path).
constexpr size_t kParallelFrom = 64;

// The state of one training run, with symbols of type S (occurrences.h).
template <typename S>
class Run {
  using Shard = ShardOf<S>;

 public:
  TrainResult Train(const WordCounts& counts, const TrainOptions& options) {
    MergeLoop loop(options);
    std::vector<const WordCount*> words;  // the pieces that can hold a pair
    for (const WordCount& wc : counts) {
      if (wc.word.size() >= 2) words.push_back(&wc);
    }
    const size_t cores = std::max(1u, std::thread::hardware_concurrency());
    const size_t wanted = options.shards > 0 ? static_cast<size_t>(options.shards)
                                             : std::min(cores, static_cast<size_t>(std::max(options.threads, 1)));
    const size_t parts = std::clamp<size_t>(wanted, 1, std::max<size_t>(1, words.size()));
    // The pieces dealt round-robin in their (sorted) order, so that every pair's occurrences are
    // spread evenly over the shards: contiguous runs would give one shard all the pieces that start
    // with a space (most of gpt2's), and with them most occurrences of the pairs that hold it.
    shards_ = std::vector<Shard>(parts);
    for (Shard& shard : shards_) shard.words.reserve(words.size() / parts + 1);
    for (size_t w = 0; w < words.size(); ++w) {
      Shard& shard = shards_[w % parts];
      shard.words.push_back(words[w]);
      shard.bytes += words[w]->word.size();
    }
    for (const Shard& shard : shards_) {
      if (shard.bytes >= kNone) {
        Fail("a shard's pieces hold {} bytes; the sharded trainer handles at most {} per thread",
             shard.bytes, kNone - 1);
      }
    }
    signals_ = std::vector<Padded<Signal>>(parts);
    slots_.assign(parts, kNone);
    const char* env = std::getenv("BPEBENCH_SHARDED_PARALLEL_FROM");
    parallel_from_ = env != nullptr && *env != '\0' ? std::strtoull(env, nullptr, 10) : kParallelFrom;
    RunParallel(parts, [&](size_t s) { s == 0 ? Lead(loop, options) : Follow(s); });
    return std::move(loop).Finish();
  }

 private:
  // The calling thread: its shard, the queue and the rounds. Whatever way it leaves (done, an
  // error here, a follower's error), it tells the followers to stop, so RunParallel returns.
  void Lead(MergeLoop& loop, const TrainOptions& options) {
    struct StopFollowers {
      Run& run;
      ~StopFollowers() {
        run.round_.stop.store(true, std::memory_order_relaxed);
        run.round_.signal.Publish(run.round_.signal.Load() + 1);
      }
    } stop_followers{*this};

    Build(shards_[0]);
    if (!AwaitFollowers(1)) return;
    BuildQueue();
    // Every shard has its symbols: the counts are not read from here on.
    for (Shard& shard : shards_) std::vector<const WordCount*>().swap(shard.words);
    if (options.input_done) options.input_done();
    size_t symbols = 0, positions = 0, weights = 0;
    for (const Shard& shard : shards_) {
      symbols += shard.sym.capacity() * sizeof(S);
      positions += shard.pairs.pool().bytes();
      weights += shard.weight.bytes();
    }
    loop.NoteMemory("symbols", symbols);
    loop.NoteMemory("piece weights", weights);
    loop.NoteMemory("position lists at the start", positions);

    uint32_t round = 0;  // merge rounds published
    while (!loop.Done()) {
      const auto best = queue_.PopBest([&](Pair p) { return Live(PairKey(p)); });
      const TokenId z = loop.NextId();
      if (!loop.Accept(best.pair, best.count)) break;
      round_.pair = best.pair;
      round_.z = z;
      // How many shards hold the pair, and how many positions: looked up while the followers wait
      // (they write no table then). Each finds its own slot again: the leader writes nothing of
      // theirs, so their lines stay in their caches.
      size_t merged = 0, positions = 0;
      for (size_t s = 0; s < shards_.size(); ++s) {
        const Shard& shard = shards_[s];
        slots_[s] = shard.pairs.Find(PairKey(best.pair));
        if (slots_[s] == kNone) continue;
        ++merged;
        positions += shard.pairs.positions(slots_[s]);
      }
      const bool in_round = positions >= parallel_from_;
      if (in_round) {
        round_.signal.Publish(++round);
        Apply(shards_[0], slots_[0]);
      } else {  // small: the leader applies it in every shard, which costs less than a round
        for (size_t s = 0; s < shards_.size(); ++s) Apply(shards_[s], slots_[s]);
      }
      // Where the pair was in more than one shard its gains are summed over them: the leader's own
      // first, while the others may still be applying.
      const bool sum = merged > 1;
      if (sum) {
        const size_t keys = std::min(2 * positions + 1, size_t{z} + 2);
        left_sum_.Reset(keys);
        right_sum_.Reset(keys);
        AddGains(shards_[0]);
      }
      if (in_round && !AwaitFollowers(round + 1)) return;
      if (sum) {
        for (size_t s = 1; s < shards_.size(); ++s) AddGains(shards_[s]);
        PushGains(left_sum_, right_sum_);
      } else {
        for (const Shard& shard : shards_) {
          if (shard.merged != kNone) PushGains(shard.changes.left_new, shard.changes.right_new);
        }
      }
    }
    size_t pairs = 0;
    positions = 0;
    for (const Shard& shard : shards_) {
      positions += shard.pairs.pool().bytes();
      pairs += shard.pairs.bytes();
    }
    loop.NoteMemory("position lists at the end", positions);
    loop.NoteMemory("pair tables at the end", pairs);
    loop.NoteMemory("queue at the end", queue_.bytes());
  }

  // Another thread: its shard, then one Apply per round until the leader stops. An error is
  // reported through failed_ (and the round's signal, so the leader does not wait for ever) and
  // rethrown to RunParallel.
  void Follow(size_t s) {
    Signal& done = signals_[s].value;
    uint32_t round = 0;
    try {
      Build(shards_[s]);
      done.Publish(1);
      while (true) {
        round = round_.signal.Await(round);
        if (round_.stop.load(std::memory_order_relaxed)) return;
        Apply(shards_[s], shards_[s].pairs.Find(PairKey(round_.pair)));
        done.Publish(round + 1);
      }
    } catch (...) {
      failed_.store(true, std::memory_order_relaxed);
      done.Publish(round + 1);
      throw;
    }
  }

  // Waits until every follower has signalled `value`; false if one failed.
  bool AwaitFollowers(uint32_t value) {
    for (size_t s = 1; s < signals_.size(); ++s) {
      const Signal& done = signals_[s].value;
      for (uint32_t now = done.Load(); now != value;) now = done.Await(now);
    }
    return !failed_.load(std::memory_order_relaxed);
  }

  // A shard's symbols, first pair counts and positions (ascending).
  static void Build(Shard& shard) { BuildFirstPairs(shard.words, shard.bytes, shard.sym, shard.weight, shard.pairs); }

  // The first queue: every pair once, with the sum of its shards' counts.
  void BuildQueue() {
    std::vector<LazyPairQueue::Candidate> candidates;
    for (size_t s = 0; s < shards_.size(); ++s) {
      for (const auto& [key, slot] : shards_[s].pairs.index()) {
        bool earlier = false;  // counted with an earlier shard's entry
        for (size_t r = 0; r < s && !earlier; ++r) earlier = shards_[r].pairs.Find(key) != kNone;
        if (earlier) continue;
        uint64_t count = shards_[s].pairs[slot].count;
        for (size_t r = s + 1; r < shards_.size(); ++r) {
          if (const uint32_t other = shards_[r].pairs.Find(key); other != kNone) count += shards_[r].pairs[other].count;
        }
        candidates.push_back({count, PairFromKey(key)});
      }
    }
    queue_ = LazyPairQueue(candidates);
  }

  // Step 2 in one shard, as `linked`'s merge: the old pairs lose (a count that reaches zero has no
  // live occurrence left in this shard: the pair and its stale positions go from the shard), the
  // new ones gain, and a new pair left with none here (an "abab" pair added and taken back) goes.
  void Apply(Shard& shard, uint32_t slot) const {
    const Pair pair = round_.pair;
    const TokenId z = round_.z;
    shard.merged = slot;
    if (shard.merged == kNone) return;
    PositionPool::List where = shard.pairs.TakePositions(shard.merged);
    VisitOccurrences(shard.sym, shard.weight, {where.data, where.size}, pair, z, shard.pairs, shard.changes);
    shard.pairs.pool().Free(where);
    PairTable& pairs = shard.pairs;
    ApplyLost(pairs, shard.changes, pair, shard.lost);
    ForEachGained(shard.changes, z, [&](uint64_t, uint32_t slot, uint64_t delta) { pairs[slot].count += delta; });
    ForEachGained(shard.changes, z, [&](uint64_t, uint32_t slot, uint64_t) {
      if (!pairs.released(slot) && pairs[slot].count == 0) pairs.Release(slot);
    });
  }

  // A shard's gains into the sums over the shards.
  void AddGains(const Shard& shard) {
    if (shard.merged == kNone) return;
    shard.changes.left_new.ForEach([&](TokenId x, const Change& c) { left_sum_.At(x).delta += c.delta; });
    shard.changes.right_new.ForEach([&](TokenId y, const Change& c) { right_sum_.At(y).delta += c.delta; });
  }

  // Step 3: the new pairs' counts onto the queue, from the gains of the one shard the pair was in,
  // or their sums. The gains are in two families, (x,z) by x and (z,y) by y; (z,z) may have an
  // entry in each.
  void PushGains(const Changes& left, const Changes& right) {
    const TokenId z = round_.z;
    left.ForEach([&](TokenId x, const Change& c) {
      uint64_t count = c.delta;
      if (x == z) {
        if (const Change* zz = right.Find(z)) count += zz->delta;
      }
      if (count != 0) queue_.Push(count, {x, z});
    });
    right.ForEach([&](TokenId y, const Change& c) {
      if (y == z && left.Find(z) != nullptr) return;  // pushed with the left family
      if (c.delta != 0) queue_.Push(c.delta, {z, y});
    });
  }

  uint64_t Live(uint64_t key) const {
    uint64_t count = 0;
    for (const Shard& shard : shards_) {
      if (const uint32_t slot = shard.pairs.Find(key); slot != kNone) count += shard.pairs[slot].count;
    }
    return count;
  }

  std::vector<Shard> shards_;
  std::vector<Padded<Signal>> signals_;  // per follower (index 0 unused): the last round it finished, + 1
  LazyPairQueue queue_;
  size_t parallel_from_ = kParallelFrom;
  std::vector<uint32_t> slots_;  // per shard: the merged pair's slot, kNone where it is not
  Changes left_sum_, right_sum_;  // PushGains' sums over the shards
  // The round, on one cache line: the leader writes the merge, then publishes the round's number
  // (release); a follower that sees the number (acquire) reads the merge.
  struct alignas(kFalseSharingBytes) Round {
    Signal signal;
    Pair pair{};
    TokenId z = 0;
    std::atomic<bool> stop{false};  // set with the last round: the followers return
  } round_;
  std::atomic<bool> failed_{false};  // a follower threw
};

class ShardedTrainer final : public Trainer {
 public:
  TrainResult Train(const WordCounts& counts, const TrainOptions& options) const override {
    if (FitsShortSymbols(counts)) return Run<ShortSymbol>().Train(counts, options);
    return Run<Symbol>().Train(counts, options);
  }
};

}  // namespace

std::unique_ptr<Trainer> MakeShardedTrainer() { return std::make_unique<ShardedTrainer>(); }

}  // namespace bpe

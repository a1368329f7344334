// Trainer `linked`: exact occurrence positions instead of word rescans (Re-Pair, Larsson & Moffat;
// the "heap plus position lists" of Zouhar et al. 2023). Data (occurrences.h):
//   - every distinct piece of two or more bytes, laid end to end in one array of symbols with
//     links to their neighbours, so a merge unlinks the right symbol in O(1): 8 bytes a symbol
//     when every piece is at most 65,536 bytes (16-bit distances), 12 otherwise,
//   - pair -> {live count (64-bit), positions of its occurrences (left symbol; may hold stale ones)},
//   - a priority queue of (count, pair) with lazy invalidation, as in `pq` (trainer.h).
// A merge visits only the recorded positions of its pair, checks each is still live, and sums the
// count changes around them per neighbour token: -(x,a) +(x,z), -(b,y) +(z,y); the pair table is
// touched once per distinct neighbour. The cost of a merge is the number of its recorded positions,
// not the length of the words that hold it, so one huge piece (a 100 MB line with the `none`
// pre-tokenizer) costs O(N log N) in all where `pq`, which rewrites whole words, costs
// O(merges x N).
// Memory: 8 or 12 bytes per symbol plus the position lists (4 bytes an entry, at least one per
// symbol, in blocks of a power-of-two size): about 20 bytes per byte of one long piece, 200 per
// distinct piece of web-like text (docs/performance.md). Symbols are 32-bit indexes, so the
// distinct pieces may hold up to 4 GiB - 2 bytes.
#include <thread>

#include "algorithms/core/error.h"
#include "algorithms/core/trainer.h"
#include "algorithms/trainers/pair_queue.h"
#include "algorithms/trainers/occurrences.h"

namespace bpe {
namespace {

using namespace occurrences;

// The state of one training run, with symbols of type S (occurrences.h: Symbol, or the smaller
// ShortSymbol where every piece fits it).
template <typename S>
class Run {
 public:
  TrainResult Train(const WordCounts& counts, const TrainOptions& options) {
    MergeLoop loop(options);

    // 1. Symbols of all pieces that can hold a pair, end to end, with their first pair counts and
    //    positions (ascending).
    std::vector<const WordCount*> pieces;
    uint64_t total = 0;
    for (const WordCount& wc : counts) {
      if (wc.word.size() < 2) continue;
      pieces.push_back(&wc);
      total += wc.word.size();
    }
    if (total >= kNone) {
      Fail("the distinct pieces hold {} bytes; the linked trainer handles at most {}", total, kNone - 1);
    }
    // With 2 threads or more, one lays out the symbols while this one builds the pair table.
    BuildFirstPairs(pieces, total, sym_, weight_, pairs_,
                    options.threads >= 2 && std::thread::hardware_concurrency() >= 2);
    std::vector<const WordCount*>().swap(pieces);
    if (options.input_done) options.input_done();  // counts is not read from here on

    // 2. The first queue.
    std::vector<LazyPairQueue::Candidate> initial;
    initial.reserve(pairs_.index().size());
    for (const auto& [key, slot] : pairs_.index()) initial.push_back({pairs_[slot].count, PairFromKey(key)});
    LazyPairQueue queue(initial);
    loop.NoteMemory("symbols", sym_.capacity() * sizeof(S));
    loop.NoteMemory("piece weights", weight_.bytes());
    loop.NoteMemory("position lists at the start", pairs_.pool().bytes());

    // 3. The merge loop.
    while (!loop.Done()) {
      const auto best = queue.PopBest([&](Pair p) { return Live(PairKey(p)); });
      const TokenId z = loop.NextId();
      if (!loop.Accept(best.pair, best.count)) break;
      Merge(best.pair, z);
      for (const uint32_t slot : pushed_) queue.Push(pairs_[slot].count, PairFromKey(pairs_.key(slot)));
      pushed_.clear();
    }
    loop.NoteMemory("position lists at the end", pairs_.pool().bytes());
    loop.NoteMemory("pair table at the end", pairs_.bytes());
    loop.NoteMemory("queue at the end", queue.bytes());
    return std::move(loop).Finish();
  }

 private:
  void Merge(Pair pair, TokenId z) {
    const uint32_t merged = pairs_.Find(PairKey(pair));
    PositionPool::List where = pairs_.TakePositions(merged);
    VisitOccurrences(sym_, weight_, {where.data, where.size}, pair, z, pairs_, changes_);
    pairs_.pool().Free(where);

    // The old pairs lose (ApplyLost). The merged pair itself ((a,a) in runs) is gone.
    // The new pairs gain; then the ones left with none (an "abab" pair added and taken back) go,
    // and the others are pushed on the queue, once each ((z,z) has an entry in both families).
    ApplyLost(pairs_, changes_, pair, lost_);
    ForEachGained(changes_, z, [&](uint64_t, uint32_t slot, uint64_t delta) { pairs_[slot].count += delta; });
    // Each entry is a pair holding z, so ApplyLost released none of them.
    auto settle = [&](uint32_t slot) {
      if (pairs_[slot].count == 0) {
        pairs_.Release(slot);
      } else {
        pushed_.push_back(slot);
      }
    };
    changes_.left_new.ForEach([&](TokenId, const Change& c) { settle(c.slot); });
    const bool zz_left = changes_.left_new.Find(z) != nullptr;  // (z,z), settled once
    changes_.right_new.ForEach([&](TokenId y, const Change& c) {
      if (y != z || !zz_left) settle(c.slot);
    });
  }

  uint64_t Live(uint64_t key) const {
    const uint32_t slot = pairs_.Find(key);
    return slot == kNone ? 0 : pairs_[slot].count;
  }

  std::vector<S> sym_;
  PieceWeights weight_;           // per symbol
  PairTable pairs_;
  MergeChanges changes_;
  LostScratch lost_;  // ApplyLost's scratch
  std::vector<uint32_t> pushed_;  // slots of the pairs whose count grew in this merge, once each
};

class LinkedTrainer final : public Trainer {
 public:
  TrainResult Train(const WordCounts& counts, const TrainOptions& options) const override {
    if (FitsShortSymbols(counts)) return Run<ShortSymbol>().Train(counts, options);
    return Run<Symbol>().Train(counts, options);
  }
};

}  // namespace

std::unique_ptr<Trainer> MakeLinkedTrainer() { return std::make_unique<LinkedTrainer>(); }

}  // namespace bpe

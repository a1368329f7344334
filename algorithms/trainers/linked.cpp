// Trainer `linked`: exact occurrence positions instead of word rescans (Re-Pair, Larsson & Moffat;
// the "heap plus position lists" of Zouhar et al. 2023). Data:
//   - every distinct piece of two or more bytes, laid end to end in one symbol array; a symbol is
//     16 bytes (token, prev and next links, its piece's index), so a merge reads one cache line per
//     symbol and unlinks the right one in O(1),
//   - pair -> slot, and per slot {live count (64-bit), positions of its occurrences (left symbol;
//     may hold stale ones)},
//   - a max-heap of (count, pair) with lazy invalidation, as in `pq`.
// A merge (a,b) -> z visits only the recorded positions of its pair, checks each is still live, and
// notes the count changes around it: -(x,a) +(x,z), -(b,y) +(z,y). The changes are summed per
// neighbour token in arrays indexed by token id (one entry per distinct x or y, where the
// occurrences run to thousands), and the pair map is touched once per entry when the merge ends;
// a new pair's positions go straight to its slot, found once per merge. The cost of a merge is the
// number of its recorded positions, not the length of the words that hold it, so one huge piece (a
// 100 MB line with the `none` pre-tokenizer) costs O(N log N) in all where `pq`, which rewrites
// whole words, costs O(merges x N).
// Memory: 16 bytes per symbol plus the position lists (4 bytes an entry, at least one per symbol,
// and vector slack): about 25 bytes per byte of one long piece. `bpebench train` on 100 MB of
// random letters as one piece (`none`, vocab 1000) peaked at 2.5 GB, text included (2.1 GB with the
// earlier 12-byte symbols). Symbols are 32-bit indexes, so the distinct pieces may hold up to
// 4 GiB - 2 bytes.
#include <algorithm>
#include <boost/unordered/unordered_flat_map.hpp>

#include "algorithms/core/error.h"
#include "algorithms/core/trainer.h"

namespace bpe {
namespace {

constexpr uint32_t kNone = UINT32_MAX;  // no neighbour (a piece boundary); no slot
constexpr TokenId kDead = UINT32_MAX;   // a symbol merged into its left neighbour

struct Symbol {
  TokenId tok;
  uint32_t prev, next;  // kNone at the piece's ends
  uint32_t word;        // index of its piece (for the piece's count)
};

struct PairData {
  uint64_t count = 0;
  uint32_t pushed_in = 0;  // the last merge step (1-based) that pushed it on the heap
  std::vector<uint32_t> positions;
};

// The summed change of one merge to the pairs that share one neighbour token t. Counts are
// unsigned: a change is kept modulo 2^64, which adds up to the right count because the true count
// never goes below zero.
struct Change {
  uint64_t delta = 0;
  uint32_t step = 0;      // the merge that last touched the entry (stale entries read as zero)
  uint32_t slot = kNone;  // the pair's slot (new pairs only: found at the first touch)
};

// The changes of one merge to one family of pairs, indexed by the token that varies, with the list
// of the tokens touched.
class Changes {
 public:
  void Reset(size_t tokens) {
    if (entries_.size() < tokens) entries_.resize(std::max(tokens, entries_.size() * 2));
    touched_.clear();
  }
  Change& At(TokenId t, uint32_t step) {
    Change& c = entries_[t];
    if (c.step != step) {
      c = {0, step, kNone};
      touched_.push_back(t);
    }
    return c;
  }
  const std::vector<TokenId>& touched() const { return touched_; }
  const Change& operator[](TokenId t) const { return entries_[t]; }

 private:
  std::vector<Change> entries_;
  std::vector<TokenId> touched_;
};

// The state of one training run.
class Run {
 public:
  TrainResult Train(const WordCounts& counts, const TrainOptions& options) {
    MergeLoop loop(options);

    // 1. Symbols of all pieces that can hold a pair, end to end.
    uint64_t total = 0;
    for (const WordCount& wc : counts) total += wc.word.size() >= 2 ? wc.word.size() : 0;
    if (total >= kNone) {
      Fail("the distinct pieces hold {} bytes; the linked trainer handles at most {}", total, kNone - 1);
    }
    sym_.resize(total);
    uint32_t at = 0;
    for (const WordCount& wc : counts) {
      if (wc.word.size() < 2) continue;
      const auto word = static_cast<uint32_t>(weight_.size());
      weight_.push_back(wc.count);
      for (size_t i = 0; i < wc.word.size(); ++i, ++at) {
        sym_[at] = {static_cast<uint8_t>(wc.word[i]), i == 0 ? kNone : at - 1,
                    i + 1 == wc.word.size() ? kNone : at + 1, word};
      }
    }

    // 2. Initial pair counts and positions (ascending).
    for (uint32_t i = 0; i + 1 < total; ++i) {
      if (sym_[i].next == kNone) continue;
      PairData& d = slots_[SlotOf(PairKey({sym_[i].tok, sym_[i + 1].tok}))];
      d.count += weight_[sym_[i].word];
      d.positions.push_back(i);
    }
    std::vector<LazyPairHeap::Candidate> initial;
    initial.reserve(index_.size());
    for (const auto& [key, slot] : index_) initial.push_back({slots_[slot].count, PairFromKey(key)});
    LazyPairHeap heap(std::move(initial));

    // 3. The merge loop.
    for (step_ = 1; !loop.Done(); ++step_) {
      const auto best = heap.PopBest([&](Pair p) { return Live(PairKey(p)); });
      const TokenId z = loop.NextId();
      if (!loop.Accept(best.pair, best.count)) break;
      Merge(best.pair, z);
      for (const uint32_t slot : pushed_) heap.Push(slots_[slot].count, PairFromKey(slot_key_[slot]));
      pushed_.clear();
    }
    return std::move(loop).Finish();
  }

 private:
  // Replaces every live occurrence of (a,b) by z. The changes, for the neighbours x (left) and y
  // (right) of an occurrence of weight w: (x,a) -w and (x,z) +w in the x families, (b,y) -w and
  // (z,y) +w in the y families. Where an earlier occurrence of this merge made the neighbour z
  // ("abab"), the pair that loses is (z,a), a new pair, so the change goes to that pair's family
  // instead. Visited left to right (the lists are ascending), the right neighbour is never one this
  // merge made; the (b,z) case keeps the sums right for any order all the same.
  void Merge(Pair pair, TokenId z) {
    const TokenId a = pair.left, b = pair.right;
    const uint64_t merged_key = PairKey(pair);
    const uint32_t merged_slot = index_.find(merged_key)->second;
    std::vector<uint32_t> where = std::move(slots_[merged_slot].positions);
    Release(merged_key, merged_slot);
    // Occurrences of (a,a) overlap in runs: they must be taken left to right ("aaa" -> [aa, a]).
    // Every position list is ascending already (the initial ones are, and a merge appends in the
    // order it visits, left to right), so this only guards that order.
    if (a == b && !std::is_sorted(where.begin(), where.end())) std::sort(where.begin(), where.end());

    for (Changes* c : {&left_old_, &left_new_, &right_old_, &right_new_}) c->Reset(size_t{z} + 1);
    for (const uint32_t i : where) {
      Symbol& si = sym_[i];
      if (si.tok != a || si.next == kNone) continue;  // stale: this symbol changed or was merged
      const uint32_t j = si.next;
      Symbol& sj = sym_[j];
      if (sj.tok != b) continue;
      const uint64_t w = weight_[si.word];
      const uint32_t p = si.prev, n = sj.next;
      if (p != kNone) {
        const TokenId x = sym_[p].tok;
        if (x != z) {
          left_old_.At(x, step_).delta += w;
        } else {
          right_new_.At(a, step_).delta -= w;  // (z,a), added by the occurrence just before
        }
        AddNew(left_new_, x, PairKey({x, z}), w, p);
      }
      if (n != kNone) {
        const TokenId y = sym_[n].tok;
        if (y != z) {
          right_old_.At(y, step_).delta += w;
        } else {
          left_new_.At(b, step_).delta -= w;  // (b,z), added by an occurrence to the right
        }
        AddNew(right_new_, y, PairKey({z, y}), w, i);
      }
      si.tok = z;
      sj.tok = kDead;
      si.next = n;
      if (n != kNone) sym_[n].prev = i;
    }

    // The old pairs lose (never below zero, so a count that reaches zero has no live occurrence
    // left: the pair and its stale positions go).
    for (const TokenId x : left_old_.touched()) Lose(PairKey({x, a}), left_old_[x].delta);
    for (const TokenId y : right_old_.touched()) Lose(PairKey({b, y}), right_old_[y].delta);
    // The new pairs' counts, then the ones left with none (an "abab" pair added and taken back)
    // go, and the others are pushed on the heap, once each ((z,z) is in both families).
    for (const Changes* c : {&left_new_, &right_new_}) {
      for (const TokenId t : c->touched()) slots_[(*c)[t].slot].count += (*c)[t].delta;
    }
    for (const Changes* c : {&left_new_, &right_new_}) {
      for (const TokenId t : c->touched()) {
        const uint32_t slot = (*c)[t].slot;
        PairData& d = slots_[slot];
        if (d.pushed_in == step_ || slot_key_[slot] == kNoKey) continue;  // done, or released
        if (d.count == 0) {
          Release(slot_key_[slot], slot);
        } else {
          d.pushed_in = step_;
          pushed_.push_back(slot);
        }
      }
    }
  }

  // A new pair (holding z) gains an occurrence at `position`.
  void AddNew(Changes& family, TokenId t, uint64_t key, uint64_t w, uint32_t position) {
    Change& c = family.At(t, step_);
    if (c.slot == kNone) c.slot = SlotOf(key);
    c.delta += w;
    slots_[c.slot].positions.push_back(position);
  }
  void Lose(uint64_t key, uint64_t delta) {
    const auto it = index_.find(key);
    if (it == index_.end()) return;  // the merged pair itself ((a,a) in runs), released already
    const uint32_t slot = it->second;
    if ((slots_[slot].count -= delta) == 0) Release(key, slot);
  }

  // The slot of a pair, made (count 0, no positions) if the pair has none.
  uint32_t SlotOf(uint64_t key) {
    const auto [it, made] = index_.try_emplace(key, 0);
    if (made) {
      if (free_.empty()) {
        it->second = static_cast<uint32_t>(slots_.size());
        slots_.emplace_back();
        slot_key_.push_back(key);
      } else {
        it->second = free_.back();
        free_.pop_back();
        slot_key_[it->second] = key;
      }
    }
    return it->second;
  }
  void Release(uint64_t key, uint32_t slot) {
    index_.erase(key);
    PairData& d = slots_[slot];
    d.count = 0;
    d.pushed_in = 0;
    std::vector<uint32_t>().swap(d.positions);
    slot_key_[slot] = kNoKey;
    free_.push_back(slot);
  }
  uint64_t Live(uint64_t key) const {
    const auto it = index_.find(key);
    return it == index_.end() ? 0 : slots_[it->second].count;
  }

  static constexpr uint64_t kNoKey = UINT64_MAX;  // a free slot's key (no pair packs to it)

  std::vector<Symbol> sym_;
  std::vector<uint64_t> weight_;  // per piece
  boost::unordered_flat_map<uint64_t, uint32_t> index_;  // pair key -> slot
  std::vector<PairData> slots_;
  std::vector<uint64_t> slot_key_;  // per slot: its pair's key, kNoKey when free
  std::vector<uint32_t> free_;      // free slots
  Changes left_old_, left_new_, right_old_, right_new_;  // (x,a), (x,z), (b,y), (z,y) by x or y
  std::vector<uint32_t> pushed_;  // slots of the pairs whose count grew in this merge, once each
  uint32_t step_ = 0;             // the merge being applied, from 1
};

class LinkedTrainer final : public Trainer {
 public:
  TrainResult Train(const WordCounts& counts, const TrainOptions& options) const override {
    return Run().Train(counts, options);
  }
};

}  // namespace

std::unique_ptr<Trainer> MakeLinkedTrainer() { return std::make_unique<LinkedTrainer>(); }

}  // namespace bpe

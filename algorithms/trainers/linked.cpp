// Trainer `linked`: exact occurrence positions instead of word rescans (Re-Pair, Larsson & Moffat;
// the "heap plus position lists" of Zouhar et al. 2023). Data:
//   - every distinct piece of two or more bytes, laid end to end in one symbol array, with prev/next
//     links per symbol so a merge unlinks the right symbol in O(1),
//   - pair -> {live count (64-bit), positions of its occurrences (left symbol; may hold stale ones)},
//   - a max-heap of (count, pair) with lazy invalidation, as in `pq`.
// A merge visits only the recorded positions of its pair, checks each is still live, and applies the
// count deltas around it: -(x,A) +(x,Z), -(B,y) +(Z,y). The cost of a merge is the number of its
// recorded positions, not the length of the words that hold it, so one huge piece (a 100 MB line
// with the `none` pre-tokenizer) costs O(N log N) in all where `pq`, which rewrites whole words,
// costs O(merges x N).
// Memory: 12 bytes per symbol (token, prev, next) plus the position lists (4 bytes an entry, at least
// one per symbol, and vector slack): about 20 bytes per byte of the distinct pieces, measured on one
// 100 MB piece. Symbols are 32-bit indexes, so the distinct pieces may hold up to 4 GiB - 2 bytes.
#include <algorithm>
#include <boost/unordered/unordered_flat_map.hpp>

#include "algorithms/core/error.h"
#include "algorithms/core/trainer.h"

namespace bpe {
namespace {

constexpr uint32_t kNone = UINT32_MAX;     // no neighbour (a piece boundary)
constexpr TokenId kDead = UINT32_MAX;      // a symbol merged into its left neighbour

struct PairData {
  uint64_t count = 0;
  uint32_t grown_in = 0;  // the last merge step (1-based) in which the count grew
  std::vector<uint32_t> positions;
};

// The state of one training run.
class Run {
 public:
  TrainResult Train(const WordCounts& counts, const TrainOptions& options) {
    MergeLoop loop(options);

    // 1. Symbols of all pieces that can hold a pair, end to end; word_start_ marks where each begins.
    uint64_t total = 0;
    for (const WordCount& wc : counts) total += wc.word.size() >= 2 ? wc.word.size() : 0;
    if (total >= kNone) {
      Fail("the distinct pieces hold {} bytes; the linked trainer handles at most {}", total, kNone - 1);
    }
    tok_.resize(total);
    prev_.resize(total);
    next_.resize(total);
    uint32_t at = 0;
    for (const WordCount& wc : counts) {
      if (wc.word.size() < 2) continue;
      word_start_.push_back(at);
      weight_.push_back(wc.count);
      for (size_t i = 0; i < wc.word.size(); ++i, ++at) {
        tok_[at] = static_cast<uint8_t>(wc.word[i]);
        prev_[at] = i == 0 ? kNone : at - 1;
        next_[at] = i + 1 == wc.word.size() ? kNone : at + 1;
      }
    }
    word_start_.push_back(at);

    // 2. Initial pair counts and positions (ascending).
    for (uint32_t w = 0; w + 1 < word_start_.size(); ++w) {
      for (uint32_t i = word_start_[w]; i + 1 < word_start_[w + 1]; ++i) {
        PairData& d = pairs_[PairKey({tok_[i], tok_[i + 1]})];
        d.count += weight_[w];
        d.positions.push_back(i);
      }
    }
    std::vector<LazyPairHeap::Candidate> initial;
    initial.reserve(pairs_.size());
    for (const auto& [key, d] : pairs_) initial.push_back({d.count, PairFromKey(key)});
    LazyPairHeap heap(std::move(initial));

    // 3. The merge loop.
    for (step_ = 1; !loop.Done(); ++step_) {
      const auto best = heap.PopBest([&](Pair p) { return Live(PairKey(p)); });
      const TokenId z = loop.NextId();
      if (!loop.Accept(best.pair, best.count)) break;

      const TokenId a = best.pair.left, b = best.pair.right;
      std::vector<uint32_t> where = std::move(pairs_[PairKey(best.pair)].positions);
      // Occurrences of (a,a) overlap in runs: they must be taken left to right ("aaa" -> [aa, a]).
      // Occurrences of (a,b) with a != b cannot overlap, so their order does not matter.
      if (a == b) std::sort(where.begin(), where.end());
      for (const uint32_t i : where) {
        if (tok_[i] != a) continue;  // stale: this symbol changed or was merged away
        const uint32_t j = next_[i];
        if (j == kNone || tok_[j] != b) continue;
        const uint64_t w = WeightAt(i);
        const uint32_t p = prev_[i], n = next_[j];
        if (p != kNone) {
          Sub(tok_[p], a, w);
          Add(tok_[p], z, w, p);
        }
        if (n != kNone) {
          Sub(b, tok_[n], w);
          Add(z, tok_[n], w, i);
        }
        tok_[i] = z;
        tok_[j] = kDead;
        next_[i] = n;
        if (n != kNone) prev_[n] = i;
      }
      pairs_.erase(PairKey(best.pair));

      for (const uint64_t key : grown_) {
        if (const uint64_t now = Live(key)) heap.Push(now, PairFromKey(key));
      }
      grown_.clear();
    }
    return std::move(loop).Finish();
  }

 private:
  uint64_t Live(uint64_t key) const {
    const auto it = pairs_.find(key);
    return it == pairs_.end() ? 0 : it->second.count;
  }
  void Add(TokenId l, TokenId r, uint64_t w, uint32_t position) {
    const uint64_t key = PairKey({l, r});
    PairData& d = pairs_[key];
    d.count += w;
    d.positions.push_back(position);
    if (d.grown_in != step_) {
      d.grown_in = step_;
      grown_.push_back(key);
    }
  }
  // A count that reaches zero has no live occurrence left: drop the pair and its stale positions.
  void Sub(TokenId l, TokenId r, uint64_t w) {
    const auto it = pairs_.find(PairKey({l, r}));
    if (it == pairs_.end()) return;  // cannot happen: every live occurrence was counted
    if ((it->second.count -= w) == 0) pairs_.erase(it);
  }
  // The count of the piece that holds symbol i. Merges visit positions mostly in order, so the
  // piece found last is tried first.
  uint64_t WeightAt(uint32_t i) {
    if (i < word_start_[last_word_] || i >= word_start_[last_word_ + 1]) {
      last_word_ = static_cast<size_t>(
          std::upper_bound(word_start_.begin(), word_start_.end(), i) - word_start_.begin() - 1);
    }
    return weight_[last_word_];
  }

  std::vector<TokenId> tok_;
  std::vector<uint32_t> prev_, next_;
  std::vector<uint32_t> word_start_;
  std::vector<uint64_t> weight_;
  boost::unordered_flat_map<uint64_t, PairData> pairs_;
  size_t last_word_ = 0;
  uint32_t step_ = 0;            // the merge being applied, from 1
  std::vector<uint64_t> grown_;  // pairs (all holding the new id) whose count grew in it, once each
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

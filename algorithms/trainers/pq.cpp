// Trainer `pq`: incremental pair counts with a priority queue, the design of the fast exact trainers
// (HF tokenizers, fastBPE). Data:
//   - pair -> live count (64-bit),
//   - pair -> ids of the words that contain it (may hold stale ids; a per-word stamp skips repeats),
//   - a priority queue of (count, pair) with lazy invalidation (pair_queue.h's LazyPairQueue: a heap
//     for large counts, buckets for small ones): an entry whose count differs from the live count
//     is updated to it when it surfaces, and a pair whose count grows gets a new entry, so the
//     first valid entry popped is the true best by the tie rule.
// Each merge rewrites only the words that contain the pair and applies count deltas around each
// occurrence: -(x,A) +(x,Z), -(A,B), -(B,y) +(Z,y), with x the already-rewritten left neighbour.
// Cost: O(symbols in affected words x log queue) per merge instead of a full recount.
#include <algorithm>
#include <boost/unordered/unordered_flat_map.hpp>

#include "algorithms/core/trainer.h"
#include "algorithms/trainers/pair_queue.h"

namespace bpe {
namespace {

class PqTrainer final : public Trainer {
 public:
  TrainResult Train(const WordCounts& counts, const TrainOptions& options) const override {
    MergeLoop loop(options);

    // 1. Words as id sequences; single-byte words can never hold a pair and are left out.
    std::vector<std::vector<TokenId>> words;
    std::vector<uint64_t> weight;
    for (const WordCount& wc : counts) {
      if (wc.word.size() < 2) continue;
      auto& s = words.emplace_back(wc.word.size());
      for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(wc.word[i]);
      weight.push_back(wc.count);
    }

    // 2. Initial pair counts and the pair -> words index.
    boost::unordered_flat_map<uint64_t, uint64_t> pair_count;
    boost::unordered_flat_map<uint64_t, std::vector<uint32_t>> where;
    for (uint32_t w = 0; w < words.size(); ++w) {
      const auto& s = words[w];
      for (size_t i = 0; i + 1 < s.size(); ++i) {
        const uint64_t key = PairKey({s[i], s[i + 1]});
        pair_count[key] += weight[w];
        auto& list = where[key];
        if (list.empty() || list.back() != w) list.push_back(w);
      }
    }
    std::vector<LazyPairQueue::Candidate> initial;
    initial.reserve(pair_count.size());
    for (const auto& [key, count] : pair_count) initial.push_back({count, PairFromKey(key)});
    LazyPairQueue queue(initial);

    // 3. The merge loop.
    std::vector<uint32_t> stamp(words.size(), UINT32_MAX);
    std::vector<uint64_t> grown;  // pairs whose count grew during this merge
    auto live = [&](uint64_t key) {
      auto it = pair_count.find(key);
      return it == pair_count.end() ? uint64_t{0} : it->second;
    };
    for (uint32_t step = 0; !loop.Done(); ++step) {
      const auto best = queue.PopBest([&](Pair p) { return live(PairKey(p)); });
      const TokenId z = loop.NextId();
      if (!loop.Accept(best.pair, best.count)) break;

      const TokenId a = best.pair.left, b = best.pair.right;
      auto add = [&](TokenId l, TokenId r, uint64_t c, uint32_t w) {
        const uint64_t key = PairKey({l, r});
        pair_count[key] += c;
        grown.push_back(key);
        auto& list = where[key];
        if (list.empty() || list.back() != w) list.push_back(w);
      };
      auto sub = [&](TokenId l, TokenId r, uint64_t c) { pair_count[PairKey({l, r})] -= c; };

      auto it = where.find(PairKey(best.pair));
      std::vector<uint32_t> affected = std::move(it->second);
      where.erase(it);
      for (uint32_t w : affected) {
        if (stamp[w] == step) continue;
        stamp[w] = step;
        auto& s = words[w];
        const uint64_t c = weight[w];
        size_t out = 0;
        for (size_t i = 0; i < s.size(); ++i) {
          if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
            if (out > 0) {
              sub(s[out - 1], a, c);
              add(s[out - 1], z, c, w);
            }
            sub(a, b, c);
            if (i + 2 < s.size()) {
              sub(b, s[i + 2], c);
              add(z, s[i + 2], c, w);
            }
            s[out++] = z;
            ++i;
          } else {
            s[out++] = s[i];
          }
        }
        s.resize(out);
      }
      pair_count.erase(PairKey(best.pair));

      // New entries for the pairs that grew (once each; their older entries go stale).
      std::sort(grown.begin(), grown.end());
      grown.erase(std::unique(grown.begin(), grown.end()), grown.end());
      for (uint64_t key : grown) {
        if (uint64_t now = live(key)) queue.Push(now, PairFromKey(key));
      }
      grown.clear();
    }
    return std::move(loop).Finish();
  }
};

}  // namespace

std::unique_ptr<Trainer> MakePqTrainer() { return std::make_unique<PqTrainer>(); }

}  // namespace bpe

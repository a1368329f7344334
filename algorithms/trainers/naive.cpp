// Trainer `naive`: the textbook algorithm on deduplicated words. For every merge it recounts every
// adjacent pair over all distinct words (weighted by the word's count), picks the best pair by the
// tie rule, and rewrites every word, left to right without overlap.
//
// Cost: O(merges x symbols in all distinct words). It is the reference every other trainer is
// checked against, so it stays obviously correct rather than fast.
#include <boost/unordered/unordered_flat_map.hpp>

#include "algorithms/core/trainer.h"

namespace bpe {
namespace {

class NaiveTrainer final : public Trainer {
 public:
  TrainResult Train(const WordCounts& counts, const TrainOptions& options) const override {
    MergeLoop loop(options);
    std::vector<std::vector<TokenId>> words;
    std::vector<uint64_t> weight;
    for (const WordCount& wc : counts) {
      words.emplace_back(wc.word.begin(), wc.word.end());
      for (TokenId& t : words.back()) t = static_cast<uint8_t>(t);
      weight.push_back(wc.count);
    }

    boost::unordered_flat_map<uint64_t, uint64_t> pair_counts;
    while (!loop.Done()) {
      // 1. Count every adjacent pair position in every word.
      pair_counts.clear();
      for (size_t w = 0; w < words.size(); ++w) {
        const auto& s = words[w];
        for (size_t i = 0; i + 1 < s.size(); ++i) pair_counts[PairKey({s[i], s[i + 1]})] += weight[w];
      }
      // 2. Pick the best pair.
      Pair best;
      uint64_t best_count = 0;
      for (const auto& [key, count] : pair_counts) {
        if (BetterCandidate(count, PairFromKey(key), best_count, best)) {
          best = PairFromKey(key);
          best_count = count;
        }
      }
      const TokenId id = loop.NextId();
      if (!loop.Accept(best, best_count)) break;
      // 3. Replace its occurrences in every word, left to right.
      for (auto& s : words) {
        size_t out = 0;
        for (size_t i = 0; i < s.size(); ++i) {
          if (i + 1 < s.size() && s[i] == best.left && s[i + 1] == best.right) {
            s[out++] = id;
            ++i;
          } else {
            s[out++] = s[i];
          }
        }
        s.resize(out);
      }
    }
    return std::move(loop).Finish();
  }
};

}  // namespace

std::unique_ptr<Trainer> MakeNaiveTrainer() { return std::make_unique<NaiveTrainer>(); }

}  // namespace bpe

// Encoder `rank`: tiktoken's loop on listed pairs. Keep the symbols and, beside them, the rank of
// each adjacent pair; repeatedly find the lowest rank by a linear scan (the leftmost on ties), merge
// it, and look up only the two pair ranks the merge changed.
//
// Cost: O(n^2) per piece of n bytes (n scans of up to n ranks, plus the vector erase). On the short
// pieces of natural text the scan over a few contiguous integers beats a heap's bookkeeping; on one
// long piece it is quadratic, which the adversarial benchmarks show.
#include "algorithms/core/encoder.h"

namespace bpe {
namespace {

class RankEncoder final : public Encoder {
 public:
  using Encoder::Encoder;

  void EncodePiece(std::string_view piece, std::vector<TokenId>& out) override {
    constexpr uint32_t kNone = Vocabulary::kNoRank;
    const Vocabulary& v = vocab();
    symbols_.assign(piece.begin(), piece.end());
    for (TokenId& t : symbols_) t = static_cast<uint8_t>(t);
    ranks_.resize(symbols_.size());  // ranks_[i]: rank of (symbols_[i], symbols_[i + 1])
    for (size_t i = 0; i + 1 < symbols_.size(); ++i) ranks_[i] = v.Rank(symbols_[i], symbols_[i + 1]);
    ranks_.back() = kNone;

    while (symbols_.size() > 1) {
      size_t best = 0;
      for (size_t i = 1; i + 1 < symbols_.size(); ++i) {
        if (ranks_[i] < ranks_[best]) best = i;
      }
      const uint32_t rank = ranks_[best];
      if (rank == kNone) break;
      symbols_[best] = MergedId(rank);
      symbols_.erase(symbols_.begin() + static_cast<ptrdiff_t>(best) + 1);
      ranks_.erase(ranks_.begin() + static_cast<ptrdiff_t>(best) + 1);
      if (best > 0) ranks_[best - 1] = v.Rank(symbols_[best - 1], symbols_[best]);
      ranks_[best] = best + 1 < symbols_.size() ? v.Rank(symbols_[best], symbols_[best + 1]) : kNone;
    }
    out.insert(out.end(), symbols_.begin(), symbols_.end());
  }

 private:
  std::vector<TokenId> symbols_;
  std::vector<uint32_t> ranks_;
};

}  // namespace

std::unique_ptr<Encoder> MakeRankEncoder(const Vocabulary& v) {
  return std::make_unique<RankEncoder>(v);
}

}  // namespace bpe

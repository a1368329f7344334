// Encoder `naive`: the textbook tokenizer. Start from the piece's bytes, apply merge 0 everywhere
// (left to right, no overlap), then merge 1, and so on through the whole merge list.
//
// Cost: O(merges x piece length) per piece, whatever the piece: it is the definition of the
// canonical ids that every other encoder is checked against, not something to run on big inputs.
#include "algorithms/core/encoder.h"

namespace bpe {
namespace {

class NaiveEncoder final : public Encoder {
 public:
  using Encoder::Encoder;

  void EncodePiece(std::string_view piece, std::vector<TokenId>& out) override {
    symbols_.assign(piece.begin(), piece.end());
    for (TokenId& t : symbols_) t = static_cast<uint8_t>(t);
    const auto merges = vocab().merges();
    for (size_t k = 0; k < merges.size() && symbols_.size() > 1; ++k) {
      const Pair m = merges[k];
      size_t w = 0;
      for (size_t i = 0; i < symbols_.size(); ++i) {
        if (i + 1 < symbols_.size() && symbols_[i] == m.left && symbols_[i + 1] == m.right) {
          symbols_[w++] = MergedId(k);
          ++i;
        } else {
          symbols_[w++] = symbols_[i];
        }
      }
      symbols_.resize(w);
    }
    out.insert(out.end(), symbols_.begin(), symbols_.end());
  }

 private:
  std::vector<TokenId> symbols_;
};

}  // namespace

std::unique_ptr<Encoder> MakeNaiveEncoder(const Vocabulary& v) {
  return std::make_unique<NaiveEncoder>(v);
}

}  // namespace bpe

// Encoder `hybrid`: `rank`'s linear scan on short pieces, `heap` on long ones. The scan over a few
// contiguous ranks beats a heap's bookkeeping on the short pieces of natural text (1.5x on
// gutenberg5's held-out text, whose pieces are mostly under 16 bytes), but is O(n^2), so one long
// piece (a run of one letter, a base64 blob, a file without newlines under `none`) would make it
// quadratic; from kLongPiece bytes on the heap's O(n log n) takes over.
//
// kLongPiece comes from the harness's `piece` benchmarks (one piece of random letters, 8 B to 2 KiB,
// vocab 10000; figure `piece_length`). Rank over heap time on the development VM: 1.29 at 8 bytes,
// 1.05 at 16, 1.18 at 32, 1.49 at 64, 2.2 at 128, 26 at 2 KiB. Random letters merge less than
// words do, so the scan never wins there; 16 is where the two meet, and below it natural text
// (where the scan does win) has nearly all of its pieces.
#include <memory>

#include "algorithms/core/encoder.h"

namespace bpe {

std::unique_ptr<Encoder> MakeRankEncoder(const Vocabulary&);
std::unique_ptr<Encoder> MakeHeapEncoder(const Vocabulary&);

namespace {

constexpr size_t kLongPiece = 16;

class HybridEncoder final : public Encoder {
 public:
  explicit HybridEncoder(const Vocabulary& v)
      : Encoder(v), short_(MakeRankEncoder(v)), long_(MakeHeapEncoder(v)) {}

  void EncodePiece(std::string_view piece, std::vector<TokenId>& out) override {
    (piece.size() < kLongPiece ? short_ : long_)->EncodePiece(piece, out);
  }

 private:
  std::unique_ptr<Encoder> short_, long_;
};

}  // namespace

std::unique_ptr<Encoder> MakeHybridEncoder(const Vocabulary& v) {
  return std::make_unique<HybridEncoder>(v);
}

}  // namespace bpe

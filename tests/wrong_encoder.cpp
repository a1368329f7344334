// An encoder that is wrong on purpose, linked only into the tests' copy of the harness
// (bpebench_harness_wrong): the harness must report MISMATCH for it, time nothing of it, and exit 3,
// and scripts/bench must pass that on. It gives `hybrid`'s ids, with the first two of every piece of
// more than one token swapped: a plausible bug that keeps the number of tokens.
#include <memory>
#include <span>
#include <utility>

#include "algorithms/registry.h"

namespace bpe {

std::unique_ptr<Encoder> MakeHybridEncoder(const Vocabulary&);

namespace {

class WrongEncoder final : public Encoder {
 public:
  explicit WrongEncoder(const Vocabulary& v) : Encoder(v), inner_(MakeHybridEncoder(v)) {}
  void EncodePiece(std::string_view piece, std::vector<TokenId>& out) override {
    const size_t first = out.size();
    inner_->EncodePiece(piece, out);
    if (out.size() - first >= 2) std::swap(out[first], out[first + 1]);
  }

 private:
  std::unique_ptr<Encoder> inner_;
};

std::unique_ptr<Encoder> MakeWrongEncoder(const Vocabulary& v) { return std::make_unique<WrongEncoder>(v); }

constexpr EncoderInfo kWrong[] = {
    {"wrong_for_tests", "hybrid with two ids swapped: the harness must catch it", true, MakeWrongEncoder}};

}  // namespace

// Replaces the library's weak declaration (algorithms/registry.cpp).
std::span<const EncoderInfo> TestOnlyEncoders() { return kWrong; }

}  // namespace bpe

#include "algorithms/core/vocabulary.h"

#include "algorithms/core/error.h"

namespace bpe {

namespace {
constexpr size_t kMaxTotalBytes = size_t{1} << 30;
}  // namespace

Vocabulary::Vocabulary(MergeList merges) : merges_(std::move(merges)) {
  offsets_.reserve(kByteAlphabet + merges_.size() + 1);
  for (unsigned b = 0; b < kByteAlphabet; ++b) {
    offsets_.push_back(static_cast<uint32_t>(bytes_.size()));
    bytes_.push_back(static_cast<char>(b));
  }
  ranks_.reserve(merges_.size());
  for (size_t k = 0; k < merges_.size(); ++k) {
    const Pair p = merges_[k];
    const TokenId next = MergedId(k);
    if (p.left >= next || p.right >= next) {
      Fail("merge {} ({} {}) refers to a token id that does not exist yet (ids below {} exist)", k,
           p.left, p.right, next);
    }
    if (!ranks_.emplace(PairKey(p), static_cast<uint32_t>(k)).second) {
      Fail("merge {} ({} {}) repeats merge {}", k, p.left, p.right, ranks_[PairKey(p)]);
    }
    offsets_.push_back(static_cast<uint32_t>(bytes_.size()));
    // A hostile merge list can double token lengths at every merge: check before allocating.
    const size_t length = TokenBytes(p.left).size() + TokenBytes(p.right).size();
    if (bytes_.size() + length > kMaxTotalBytes) {
      Fail("merge {} makes the vocabulary's tokens longer than {} bytes in all", k, kMaxTotalBytes);
    }
    // Copy through a temporary: appending may reallocate bytes_ under the views.
    std::string merged(TokenBytes(p.left));
    merged += TokenBytes(p.right);
    bytes_ += merged;
  }
  offsets_.push_back(static_cast<uint32_t>(bytes_.size()));
}

void Vocabulary::Decode(std::span<const TokenId> ids, std::string& out) const {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] >= size()) {
      Fail("token id {} at position {} is not in the vocabulary (ids 0..{})", ids[i], i, size() - 1);
    }
    out += TokenBytes(ids[i]);
  }
}

}  // namespace bpe

#include "algorithms/core/vocabulary.h"

#include <algorithm>
#include <stdexcept>

#include "algorithms/core/error.h"

namespace bpe {

Vocabulary::Vocabulary(MergeList merges) : merges_(std::move(merges)) {
  // 1. Validate the merges and measure every token.
  lengths_.assign(kByteAlphabet, 1);
  lengths_.reserve(kByteAlphabet + merges_.size());
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
    lengths_.push_back(std::min(lengths_[p.left] + lengths_[p.right], kMaxTokenLength));
  }
  // 2. The longest length whose tokens, with all the shorter ones, fit the budget.
  const uint64_t budget = kHeldBytesBase + kHeldBytesPerMerge * merges_.size();
  std::vector<uint64_t> sorted = lengths_;
  std::sort(sorted.begin(), sorted.end());
  uint64_t total = 0;
  held_max_ = 1;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    uint64_t same = 0;  // the bytes of all tokens of this length
    while (j < sorted.size() && sorted[j] == sorted[i]) same += sorted[j++];
    if (total + same > budget && sorted[i] > 1) break;
    total += same;
    held_max_ = sorted[i];
    i = j;
  }
  all_held_ = held_max_ == sorted.back();
  // 3. The held tokens' bytes: a held token's parts are shorter, so held too.
  bytes_.reserve(total);
  offsets_.assign(lengths_.size(), 0);
  for (unsigned b = 0; b < kByteAlphabet; ++b) {
    offsets_[b] = bytes_.size();
    bytes_.push_back(static_cast<char>(b));
  }
  for (size_t k = 0; k < merges_.size(); ++k) {
    const TokenId id = MergedId(k);
    if (!HasBytes(id)) continue;
    offsets_[id] = bytes_.size();
    // Copy through a temporary: appending may reallocate bytes_ under the views.
    std::string merged(TokenBytes(merges_[k].left));
    merged += TokenBytes(merges_[k].right);
    bytes_ += merged;
  }
}

void Vocabulary::ThrowNotHeld(TokenId id) {
  throw std::logic_error("the bytes of token " + std::to_string(id) + " are not held (see Vocabulary)");
}

void Vocabulary::AppendTokenBytes(TokenId id, std::string& out) const {
  // Left to right down the merge tree, with an explicit stack: a token's tree can be hundreds of
  // merges deep.
  std::vector<TokenId> stack = {id};
  while (!stack.empty()) {
    const TokenId t = stack.back();
    stack.pop_back();
    if (HasBytes(t)) {
      out += TokenBytes(t);
      continue;
    }
    const Pair& p = merges_[t - kByteAlphabet];
    stack.push_back(p.right);
    stack.push_back(p.left);
  }
}

void Vocabulary::Decode(std::span<const TokenId> ids, std::string& out, uint64_t max_bytes) const {
  uint64_t bytes = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] >= size()) {
      Fail("token id {} at position {} is not in the vocabulary (ids 0..{})", ids[i], i, size() - 1);
    }
    bytes += lengths_[ids[i]];
    if (bytes > max_bytes) {
      Fail("the ids decode to more than {} bytes (token id {} at position {} alone is {} bytes)", max_bytes,
           ids[i], i, lengths_[ids[i]]);
    }
  }
  out.reserve(out.size() + bytes);
  for (TokenId id : ids) AppendTokenBytes(id, out);
}

}  // namespace bpe

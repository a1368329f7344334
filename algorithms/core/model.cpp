#include "algorithms/core/model.h"

#include <algorithm>

namespace bpe {

std::vector<TokenId> InternalIds(std::span<const uint32_t> external_ids, size_t vocab_size) {
  std::vector<TokenId> out;
  if (external_ids.empty()) {
    out.resize(vocab_size);
    for (TokenId i = 0; i < out.size(); ++i) out[i] = i;
    return out;
  }
  out.assign(*std::max_element(external_ids.begin(), external_ids.end()) + size_t{1}, Model::kNoToken);
  for (TokenId i = 0; i < external_ids.size(); ++i) out[external_ids[i]] = i;
  return out;
}

std::vector<TokenId> Model::InternalIds() const { return bpe::InternalIds(external_ids, kByteAlphabet + merges.size()); }

}  // namespace bpe

#include "algorithms/core/model.h"

#include <algorithm>

namespace bpe {

std::vector<TokenId> Model::InternalIds() const {
  std::vector<TokenId> out;
  if (external_ids.empty()) {
    out.resize(kByteAlphabet + merges.size());
    for (TokenId i = 0; i < out.size(); ++i) out[i] = i;
    return out;
  }
  out.assign(*std::max_element(external_ids.begin(), external_ids.end()) + size_t{1}, kNoToken);
  for (TokenId i = 0; i < external_ids.size(); ++i) out[external_ids[i]] = i;
  return out;
}

}  // namespace bpe

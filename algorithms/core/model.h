// A model: the ordered merge list and the name of the pre-tokenizer it was trained with, plus, for
// vocabularies made elsewhere, the ids they give their tokens. The file formats that hold models are
// in algorithms/formats/.
#pragma once

#include <span>
#include <string>
#include <vector>
#include <string_view>

#include "algorithms/core/types.h"

namespace bpe {

struct Model {
  std::string pretokenizer;
  MergeList merges;
  // The ids an external vocabulary gives its tokens (tiktoken's ranks), indexed by our id; empty for
  // models trained here, whose ids are ours (bytes 0..255, merge k = 256 + k). See tiktoken.h.
  std::vector<uint32_t> external_ids = {};
  bool operator==(const Model&) const = default;

  // Our id -> the id users see.
  uint32_t ExternalId(TokenId id) const { return external_ids.empty() ? id : external_ids[id]; }
  // The id users see -> ours: a table indexed by external id, kNoToken where the model has no such
  // id (gaps, special tokens).
  static constexpr TokenId kNoToken = UINT32_MAX;
  std::vector<TokenId> InternalIds() const;
};

// Model::InternalIds for a vocabulary of vocab_size tokens whose external ids are these (empty:
// the ids are ours).
std::vector<TokenId> InternalIds(std::span<const uint32_t> external_ids, size_t vocab_size);

}  // namespace bpe

// A model: the ordered merge list plus the name of the pre-tokenizer it was trained with, and its
// file format. Files are plain text, deterministic (the same model gives byte-identical files: no
// timestamps), and self-checking (a merge count up front, a checksum and an end marker at the back),
// so a truncated, corrupt or foreign file is a clear error rather than a wrong tokenizer.
//
//   bpebench-model 1
//   pretokenizer gpt2
//   merges 2
//   104 101
//   256 108
//   checksum 8c0f2a1b3d4e5f60
//   end
#pragma once

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

// Models with external ids (tiktoken vocabularies) are read from their own files and not written as
// bpebench models: SerializeModel throws for them.
std::string SerializeModel(const Model& model);
// Parses and validates (known pre-tokenizer, merges refer to existing ids, no pair twice).
// `source` names the file in error messages.
Model ParseModel(std::string_view bytes, std::string_view source);

Model LoadModel(const std::string& path);
// Writes to a temporary file beside `path` and renames it into place: never a truncated model.
void SaveModel(const Model& model, const std::string& path);

}  // namespace bpe

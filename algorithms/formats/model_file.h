// The bpebench model file: plain text, deterministic (the same model gives byte-identical files: no
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

#include <cstdint>
#include <string>
#include <string_view>

#include "algorithms/core/model.h"

namespace bpe {

// More than any model file holds (o200k_base's JSON is 3.6 MB; a bpebench model of 2^24 merges about
// 250 MB): a larger file is not a model, and the loaders do not read it whole.
inline constexpr uint64_t kMaxModelFileBytes = uint64_t{1} << 30;

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

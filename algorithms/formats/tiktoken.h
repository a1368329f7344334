// tiktoken vocabularies (gpt2 / r50k_base, cl100k_base, o200k_base) as bpebench models.
//
// A tiktoken vocabulary is a list of byte strings with ranks; the rank is also the token's id. There
// is no merge list: tiktoken merges any adjacent pair whose concatenation is a token, lowest rank
// first. bpebench derives the merge list: for each token of two or more bytes, in rank order, the
// unique pair of lower-ranked tokens that tiktoken's own procedure reaches on the token's bytes when
// only lower ranks may merge. Our ids stay canonical inside (bytes 0..255, merge k = 256 + k, in
// rank order), so every encoder works unchanged; Model::external_ids maps them to tiktoken's ids for
// output, and back for decoding.
//
// Formats:
//   JSON, as the npm tiktoken package ships them (tiktoken/encoders/<name>.json): pat_str,
//     special_tokens, and bpe_ranks, lines of "! <first rank> <base64 token> <base64 token> ...".
//   .tiktoken, as OpenAI publishes them: "<base64 token> <rank>" per line; it has no pattern, so the
//     pre-tokenizer comes from the caller.
// Special tokens are not encoded (as tiktoken's encode_ordinary); their ids do not decode either.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "algorithms/core/model.h"

namespace bpe {

// The names --model accepts for tiktoken's vocabularies: gpt2, r50k_base (the same ranks),
// cl100k_base, o200k_base.
bool IsTiktokenName(std::string_view name);

// The folders in which LoadTiktoken looks for the JSON rank files (<name>.json), in order. The
// library knows no folder of its own: the programs set it (bpebench, the harness and the tests use
// $BPEBENCH_TIKTOKEN_DIR, then the npm tiktoken package that scripts/setup installs under
// harness/peers; see cli/search_paths.h).
void SetTiktokenSearchPath(std::vector<std::string> dirs);
const std::vector<std::string>& TiktokenSearchPath();
// The rank file of a vocabulary name: the first folder of the search path that has it; "" if none.
std::string FindTiktokenFile(std::string_view name);

// Loads a vocabulary by name; a missing file is an error that says where it looked and how to get it.
Model LoadTiktoken(std::string_view name);

Model ParseTiktokenJson(std::string_view bytes, std::string_view source);
Model ParseTiktokenRanks(std::string_view bytes, std::string_view source, std::string_view pretokenizer);

// What --model names: a tiktoken vocabulary name (when no file of that name exists), a .tiktoken
// rank file (pre-tokenizer: `pretokenizer`, else guessed from the file name), a tiktoken JSON rank
// file, an HF tokenizer.json (byte-level BPE, hf_json.h), or a bpebench model file.
Model LoadAnyModel(const std::string& spec, std::string_view pretokenizer = "");

}  // namespace bpe

// Whole-text operations built on a pre-tokenizer: splitting text for threads, counting distinct
// pieces (the trainers' input), and encoding a text with any registered encoder.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "algorithms/core/pretokenizer.h"
#include "algorithms/core/registry.h"
#include "algorithms/core/types.h"

namespace bpe {

// Splits text into at most `parts` consecutive chunks of roughly equal size, cutting only at the
// pre-tokenizer's safe boundaries, so each chunk pre-tokenizes exactly as it does inside the text.
std::vector<std::string_view> SplitAtSafeBoundaries(std::string_view text, const PreTokenizer& pre,
                                                    size_t parts);

// Distinct pieces with 64-bit counts, sorted by bytes (deterministic for any thread count).
// Counts in parallel over `threads` chunks, each with its own hash table, merged once at the end.
WordCounts CountWords(std::string_view text, const PreTokenizer& pre, int threads = 1);

// Encodes text: pre-tokenize, then encode each piece. With threads > 1 the text is split at safe
// boundaries and each thread encodes one chunk with its own encoder instance; the result is
// identical for every thread count.
std::vector<TokenId> EncodeText(std::string_view text, const PreTokenizer& pre,
                                const EncoderInfo& encoder, const Vocabulary& vocab,
                                int threads = 1);

// Encodes a whole chunk with one encoder instance (no threads); appends to out.
void EncodeChunk(std::string_view text, const PreTokenizer& pre, Encoder& encoder,
                 std::vector<TokenId>& out);

}  // namespace bpe

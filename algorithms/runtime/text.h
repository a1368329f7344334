// Whole-text operations built on a pre-tokenizer: splitting text for threads, counting distinct
// pieces (the trainers' input), and encoding a text with any registered encoder.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "algorithms/core/pretokenizer.h"
#include "algorithms/core/encoder.h"
#include "algorithms/core/types.h"

namespace bpe {

// Splits text into at most `parts` consecutive chunks of roughly equal size, cutting only at the
// pre-tokenizer's safe boundaries, so each chunk pre-tokenizes exactly as it does inside the text.
std::vector<std::string_view> SplitAtSafeBoundaries(std::string_view text, const PreTokenizer& pre,
                                                    size_t parts);

// Distinct pieces with 64-bit counts, sorted by bytes (deterministic for any thread count).
// Counts in parallel over `threads` chunks, each with its own hash table; then each thread takes one
// range of the keys (cut at sampled keys), gathers its range from every table, sorts and sums it.
WordCounts CountWords(std::string_view text, const PreTokenizer& pre, int threads = 1);

// Counts distinct pieces of a text that arrives in blocks (files read piece by piece, standard
// input), holding only the counts and one block at a time: each block is cut at its last safe
// boundary and the rest is carried into the next. Memory: the distinct pieces, plus the longest run
// of text without a safe boundary (for `none`, the longest line; a file with no newline at all is
// one piece and is held whole, as it must be to be counted). Gives exactly CountWords(whole text).
class WordCounter {
 public:
  WordCounter(const PreTokenizer& pre, int threads);

  void Add(std::string_view bytes);
  // Counts what is left and returns the counts, sorted by bytes.
  WordCounts Finish();
  uint64_t bytes_seen() const { return offset_ + carry_.size(); }

 private:
  size_t LastBoundary(size_t from) const;
  void CountPrefix(size_t end);

  const PreTokenizer& pre_;
  int threads_;
  std::string carry_;    // text not counted yet
  size_t scanned_ = 0;   // carry_ has no safe boundary in [1, scanned_)
  uint64_t offset_ = 0;  // bytes counted before carry_
  boost::unordered_flat_map<std::string, uint64_t, StringHash, std::equal_to<>> table_;
};

// Encodes text: pre-tokenize, then encode each piece. With threads > 1 the text is split at safe
// boundaries and each thread encodes one chunk with its own encoder instance; the result is
// identical for every thread count. `make_encoder` is a registry row's factory (EncoderInfo::make).
std::vector<TokenId> EncodeText(std::string_view text, const PreTokenizer& pre,
                                EncoderFactory make_encoder, const Vocabulary& vocab,
                                int threads = 1);

// Encodes a whole chunk with one encoder instance (no threads); appends to out.
void EncodeChunk(std::string_view text, const PreTokenizer& pre, Encoder& encoder,
                 std::vector<TokenId>& out);

}  // namespace bpe

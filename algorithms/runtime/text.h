// Whole-text operations built on a pre-tokenizer: splitting text for threads, counting distinct
// pieces (the trainers' input), and encoding a text with any registered encoder.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "algorithms/core/pretokenizer.h"
#include "algorithms/core/encoder.h"
#include "algorithms/core/types.h"
#include "algorithms/runtime/parallel.h"
#include "algorithms/runtime/piece_table.h"

namespace bpe {

// Splits text into at most `parts` consecutive chunks of roughly equal size, cutting only at the
// pre-tokenizer's safe boundaries, so each chunk pre-tokenizes exactly as it does inside the text.
std::vector<std::string_view> SplitAtSafeBoundaries(std::string_view text, const PreTokenizer& pre,
                                                    size_t parts);

// Distinct pieces with 64-bit counts, sorted by bytes (deterministic for any thread count).
// Counts on `threads` threads into one table per thread, each holding the pieces whose hash falls
// in its part (text.cpp, runtime/piece_table.h); then each thread takes one range of the keys (cut
// at sampled keys) from every table, sorts it and writes its part of the result.
WordCounts CountWords(std::string_view text, const PreTokenizer& pre, int threads = 1);

// Counts distinct pieces of a text that arrives in blocks (files read piece by piece, standard
// input), holding only the counts and one block at a time: each block is cut at its last safe
// boundary and the rest is carried into the next. Memory: the distinct pieces, plus the longest run
// of text without a safe boundary (for `none`, the longest line; a file with no newline at all is
// one piece and is held whole, as it must be to be counted). Gives exactly CountWords(whole text).
class WordCounter {
 public:
  WordCounter(const PreTokenizer& pre, int threads);
  ~WordCounter();

  void Add(std::string_view bytes);
  // Counts each of `documents` as a whole text of its own (pieces end where a document ends, as
  // HF's train_from_iterator and sentencepiece treat their sentences), after ending the text given
  // to Add so far. Spread over the threads by document; the views need live only during the call.
  void AddDocuments(std::span<const std::string_view> documents);
  // Counts what is left and returns the counts: sorted by bytes, or with `sorted` false in the
  // tables' order, which depends on the thread count. A trainer's merges do not depend on the order
  // of its counts, so `bpebench train` takes them unsorted: on 200 MB of web-like text the sort
  // took a third of counting's time and of its peak memory (text.cpp).
  WordCounts Finish(bool sorted = true);
  uint64_t bytes_seen() const { return offset_ + carry_.size(); }
  // Bytes the counting tables hold now (the distinct pieces so far; runtime/piece_table.h).
  uint64_t table_bytes() const;

 private:
  void CountPrefix(size_t end);

  const PreTokenizer& pre_;
  int threads_;
  std::string carry_;    // text not counted yet
  size_t scanned_ = 0;   // carry_ has no safe boundary in [1, scanned_)
  uint64_t offset_ = 0;  // bytes counted before carry_
  // The counts so far, one table per thread, each holding the pieces whose hash falls in its part
  // (no piece in two), so that every thread adds each block's counts to its own table at once.
  std::vector<Padded<PieceTable>> tables_;
  // Each thread's records of a counting round (text.cpp), kept from block to block.
  std::vector<Padded<std::vector<std::vector<HashedKey>>>> scratch_;
};

// Encodes a text that arrives in blocks (a file read piece by piece), holding one block plus the
// text after its last safe boundary: the part before the cut is encoded (on `threads` threads) and
// its ids handed to `sink`, one part per thread in order; the rest is carried into the next block.
// The ids are exactly EncodeText(whole text). The encoder instances (one per thread, so a piece
// cache stays warm from block to block) and the id buffers live as long as the stream: feeding it
// blocks of a megabyte or so reuses the same memory for every block.
class StreamEncoder {
 public:
  using Sink = std::function<void(const std::vector<TokenId>&)>;
  StreamEncoder(const PreTokenizer& pre, EncoderFactory make_encoder, const Vocabulary& vocab, int threads,
                Sink sink);
  ~StreamEncoder();
  void Add(std::string_view bytes);
  void Finish();  // encodes what is carried
  uint64_t bytes_encoded() const { return bytes_; }

 private:
  void EncodePrefix(size_t end);

  const PreTokenizer& pre_;
  EncoderFactory make_;
  const Vocabulary& vocab_;
  int threads_;
  Sink sink_;
  std::string carry_;
  size_t scanned_ = 0;
  uint64_t bytes_ = 0;
  std::vector<std::unique_ptr<Encoder>> encoders_;      // one per thread, made on first use
  std::vector<Padded<std::vector<TokenId>>> parts_;     // each thread's ids of the current block
};

// Splits text at safe boundaries into up to `threads` chunks and encodes chunk i with encoders[i]
// (made from make_encoder where missing) into parts[i], on the worker pool; returns the number of
// chunks. The vectors grow as needed and are kept, so a caller that keeps them reuses the encoders
// (their caches) and the memory. One output vector per chunk, Padded (push_back writes the
// vector's end pointer); part 0 reserves room for the whole text's ids (a third of its bytes covers
// every vocabulary but the smallest ones), so EncodeText appends the others to it without moving it.
size_t EncodeParts(std::string_view text, const PreTokenizer& pre, EncoderFactory make_encoder,
                   const Vocabulary& vocab, int threads, std::vector<std::unique_ptr<Encoder>>& encoders,
                   std::vector<Padded<std::vector<TokenId>>>& parts);

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

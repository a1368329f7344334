// The encoder interface: bytes of one piece in, token ids out. An encoder borrows the prepared
// Vocabulary (never copies it) and may keep scratch buffers between calls, so an instance serves one
// thread; make one per thread from the registry's factory (cheap).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "algorithms/core/pretokenizer.h"
#include "algorithms/core/types.h"
#include "algorithms/core/vocabulary.h"

namespace bpe {

class Encoder {
 public:
  explicit Encoder(const Vocabulary& vocab) : vocab_(vocab) {}
  virtual ~Encoder() = default;
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  // Appends the ids of piece (non-empty) to out, merging by rank: repeatedly the adjacent pair with
  // the lowest merge rank, leftmost first.
  virtual void EncodePiece(std::string_view piece, std::vector<TokenId>& out) = 0;

  // Appends the ids of every piece of text, in order: EncodePiece on each. An encoder whose
  // EncodePiece is final overrides this with the same loop, in which the call is then direct and
  // its one-token path inlined (backtrack does).
  virtual void EncodeChunk(std::string_view text, const PreTokenizer& pre, std::vector<TokenId>& out) {
    pre.ForEachPiece(text, [&](std::string_view piece) { EncodePiece(piece, out); });
  }

  const Vocabulary& vocab() const { return vocab_; }

  // Named statistics of the work done so far (a cache's hit rate, say), for the benchmark results.
  virtual std::vector<std::pair<std::string, double>> Counters() const { return {}; }

  // Whether an instance keeps state from call to call that makes later calls faster (a piece
  // cache): the harness then measures it warm (one instance across calls) as well as cold (a new
  // instance per call). The ids never depend on it.
  virtual bool KeepsState() const { return false; }

 private:
  const Vocabulary& vocab_;
};

// Makes an encoder over a prepared vocabulary; the registry holds one per algorithm.
using EncoderFactory = std::unique_ptr<Encoder> (*)(const Vocabulary&);

}  // namespace bpe

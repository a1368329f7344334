// The encoder interface: bytes of one piece in, token ids out. An encoder borrows the prepared
// Vocabulary (never copies it) and may keep scratch buffers between calls, so an instance serves one
// thread; make one per thread from the registry's factory (cheap).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

  const Vocabulary& vocab() const { return vocab_; }

  // Named statistics of the work done so far (a cache's hit rate, say), for the benchmark results.
  virtual std::vector<std::pair<std::string, double>> Counters() const { return {}; }

 private:
  const Vocabulary& vocab_;
};

}  // namespace bpe

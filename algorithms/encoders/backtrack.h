// The `backtrack` encoder's class, for encoders built on it (`cached` asks its whole-token table
// first). See backtrack.cpp for the algorithm.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "algorithms/core/encoder.h"

namespace bpe {

struct BacktrackTables;  // derived once per vocabulary (Vocabulary::Derived), shared read-only

class BacktrackEncoder final : public Encoder {
 public:
  static constexpr TokenId kNone = UINT32_MAX;

  explicit BacktrackEncoder(const Vocabulary& v);

  void EncodePiece(std::string_view piece, std::vector<TokenId>& out) override;

  // The token whose bytes are exactly piece (1..kShortKeyMaxBytes bytes) and which encodes to
  // itself, or kNone: then the piece encodes to more than one token. One probe of a shared table.
  TokenId WholeToken(std::string_view piece) const;

 private:
  struct Match {
    TokenId token;
    uint32_t length;
  };
  bool Dead(size_t i) const { return (dead_[i / 64] >> (i % 64)) & 1; }
  Match LongestMatch(std::string_view piece, size_t pos) const;
  bool PairValid(TokenId a, TokenId b) const;

  const BacktrackTables& t_;
  std::vector<TokenId> tokens_;
  std::vector<uint64_t> dead_;
};

}  // namespace bpe

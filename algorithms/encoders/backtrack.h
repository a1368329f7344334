// The `backtrack` encoder's class, for encoders built on it (`cached` overrides Search to look
// multi-token pieces up in its cache first). See backtrack.cpp for the algorithm.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "algorithms/core/encoder.h"

namespace bpe {

struct BacktrackTables;  // derived once per vocabulary (Vocabulary::Derived), shared read-only

// The derived tables as bytes, for the prepared-model cache (formats/prepared.h); derived first if
// they are not yet. Same machine and build only: plain records, native byte order.
std::string SaveBacktrackTables(const Vocabulary& v);
// Installs tables from SaveBacktrackTables's bytes as v's, used in place where they are aligned (a
// mapped file, which `keep` keeps alive) and copied otherwise. Every index is checked to stay inside
// its table and to name a token of v, and the search checks the lengths it moves by, so that bytes
// that do not fit v give false (or an error while encoding), never an out-of-bounds access or an
// endless probe. Not checked: that the tables hold the right tokens; a file crafted to break that
// gives wrong ids (the prepared cache's checksum catches damage, not intent).
bool LoadBacktrackTables(const Vocabulary& v, std::string_view bytes, std::shared_ptr<const void> keep = nullptr);

class BacktrackEncoder : public Encoder {
 public:
  static constexpr TokenId kNone = UINT32_MAX;

  explicit BacktrackEncoder(const Vocabulary& v);

  // One probe of the whole-token table answers a piece that is one token (most pieces of text);
  // Search does the rest.
  void EncodePiece(std::string_view piece, std::vector<TokenId>& out) final;
  void EncodeChunk(std::string_view text, const PreTokenizer& pre, std::vector<TokenId>& out) final;

  // whole_token_pieces: the pieces answered by the whole-token table; pair_memo_slots: the size the
  // pair memo has grown to.
  std::vector<std::pair<std::string, double>> Counters() const override;

 protected:
  // Appends the ids of a piece that is not one token, or longer than kShortKeyMaxBytes bytes: the
  // backtracking search. Out of line, so that EncodePiece's one-token path saves no registers;
  // virtual, so that `cached` can look such pieces up first.
  virtual void Search(std::string_view piece, std::vector<TokenId>& out);

 private:
  struct Match {
    TokenId token;
    uint32_t length;
  };
  TokenId FindWholePiece(std::string_view s) const;
  bool Dead(size_t i) const { return (dead_[i / 64] >> (i % 64)) & 1; }
  // The longest usable token at piece[pos..]; probe_whole: look the whole rest up first.
  Match LongestMatch(std::string_view piece, size_t pos, bool probe_whole = true) const;
  bool PairValid(TokenId a, TokenId b);            // through pair_memo_
  bool WalkPairValid(TokenId a, TokenId b) const;  // the merge-tree walk itself

  // The last answers of the pair test, direct-mapped by a hash of the pair: a walk costs a rank
  // lookup per level of both merge trees, and text asks about the same pairs again and again. A
  // slot holds a << 32 | b for a valid pair and its complement for an invalid one; the empty slot's
  // value is neither for any pair of ids (both below UINT32_MAX). It starts at 1024 slots (8 KB: a
  // short call stays cheap) and grows fourfold, up to 32768 (256 KB), whenever the walks since it
  // last grew reach eight times its slots: text with many distinct pairs (Chinese under
  // cl100k_base) keeps finding new ones, while a short text of pairs that never repeat (random
  // letters) does not pay for a larger table.
  static constexpr int kPairMemoFirstBits = 10, kPairMemoMaxBits = 15;
  static constexpr uint64_t kEmptyPairSlot = 0xFFFFFFFF00000000ull;
  void GrowPairMemo();
  std::vector<uint64_t> pair_memo_ = std::vector<uint64_t>(size_t{1} << kPairMemoFirstBits, kEmptyPairSlot);
  int pair_memo_shift_ = 64 - kPairMemoFirstBits;
  uint64_t walks_ = 0;  // since the memo last grew
  uint64_t walks_to_grow_ = 8 << kPairMemoFirstBits;  // 0 once grown in full

  const BacktrackTables& t_;
  std::unique_ptr<Encoder> long_pieces_;  // for pieces longer than the held tokens (Search)
  std::vector<uint64_t> dead_;
  uint64_t whole_ = 0;
};

}  // namespace bpe

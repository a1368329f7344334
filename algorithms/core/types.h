// Core value types shared by every trainer and encoder: token ids, pairs, merge lists, word counts,
// and the one tie rule that fixes the merge order.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bpe {

// Token ids. The 256 byte values are ids 0..255; merge k creates id 256 + k.
using TokenId = uint32_t;
inline constexpr TokenId kByteAlphabet = 256;

// An adjacent pair of tokens. Ordered by (left, right), the order that breaks count ties.
struct Pair {
  TokenId left = 0;
  TokenId right = 0;
  auto operator<=>(const Pair&) const = default;
};

// A pair packed into one 64-bit key for hash maps; the packing keeps the (left, right) order.
inline uint64_t PairKey(Pair p) { return (uint64_t{p.left} << 32) | p.right; }
inline Pair PairFromKey(uint64_t key) {
  return {static_cast<TokenId>(key >> 32), static_cast<TokenId>(key)};
}

// The ordered merge list: merges[k] creates token id 256 + k.
using MergeList = std::vector<Pair>;
inline TokenId MergedId(size_t rank) { return kByteAlphabet + static_cast<TokenId>(rank); }

// One distinct pre-tokenized piece of the corpus and how often it occurs. Counts are 64-bit: 32-bit
// pair counts overflow silently on large corpora (HF tokenizers issues 2058, 2320).
struct WordCount {
  std::string word;
  uint64_t count = 0;
  bool operator==(const WordCount&) const = default;
};
using WordCounts = std::vector<WordCount>;

// Hash for maps keyed by std::string that are looked up with std::string_view (no copy per lookup).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// THE tie rule, the only place it is written down: a candidate pair beats another when its count is
// higher, or, on equal counts, when it is smaller as (left id, right id). Every trainer uses it.
inline bool BetterCandidate(uint64_t count_a, Pair a, uint64_t count_b, Pair b) {
  return count_a != count_b ? count_a > count_b : a < b;
}

}  // namespace bpe

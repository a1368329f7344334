// The prepared, immutable vocabulary every encoder borrows (the GitHub `bpe` crate's layout): token
// byte strings concatenated in one buffer with a start offset per token, and a pair -> rank hash
// table. Built once from a merge list, then shared read-only, also across threads. Its arrays are
// plain records, so that a prepared-model cache file (formats/prepared.h) can hold them and a
// Vocabulary can use them in place from the mapped file (Save, Load) instead of building them.
//
// Bounded by the merge list, not by its tokens' lengths: a merge list of a few hundred lines can
// double a token's length at every merge (training on one long run of a letter does), so the bytes
// are held only for the tokens up to a length chosen such that they take at most
// kHeldBytesBase + kHeldBytesPerMerge x merges bytes in all (every token of every real vocabulary:
// o200k_base's take 1.5 MB of its 6.6 MB budget). Longer tokens have a length and their merge, and
// AppendTokenBytes expands them; encoders with tables of token bytes leave them out and encode the
// pieces longer than held_max_length() by merging (see backtrack.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <typeindex>
#include <vector>

#include "algorithms/core/types.h"

namespace bpe {

class Vocabulary {
 public:
  static constexpr uint32_t kNoRank = UINT32_MAX;

  // Validates the merge list (every merge refers only to ids that exist before it, no pair twice) and
  // throws bpe::Error naming the first bad merge.
  explicit Vocabulary(MergeList merges);
  // Not copied or moved: its views point into its own arrays (or a mapping); hold it by pointer.
  Vocabulary(const Vocabulary&) = delete;
  Vocabulary& operator=(const Vocabulary&) = delete;

  static constexpr uint64_t kHeldBytesBase = 256 << 10;
  static constexpr uint64_t kHeldBytesPerMerge = 32;
  // Token lengths saturate here (2^62 bytes: no text holds such a token).
  static constexpr uint64_t kMaxTokenLength = uint64_t{1} << 62;

  size_t size() const { return lengths_.size(); }
  std::span<const Pair> merges() const { return merges_; }

  uint64_t TokenLength(TokenId id) const { return lengths_[id]; }
  // The bytes of a token are held when it is at most held_max_length() bytes long; all_held() when
  // every token's are (so for every real vocabulary).
  bool HasBytes(TokenId id) const { return lengths_[id] <= held_max_; }
  uint64_t held_max_length() const { return held_max_; }
  bool all_held() const { return all_held_; }
  // The bytes of a token whose bytes are held (HasBytes); std::logic_error otherwise.
  std::string_view TokenBytes(TokenId id) const {
    if (!HasBytes(id)) ThrowNotHeld(id);
    return std::string_view(bytes_).substr(offsets_[id], lengths_[id]);
  }
  // Appends the bytes of any token, expanding the merges of a long one.
  void AppendTokenBytes(TokenId id, std::string& out) const;
  // Rank of the merge for this pair, or kNoRank when the pair is not a merge.
  uint32_t Rank(Pair p) const {
    const uint64_t key = PairKey(p);
    const size_t mask = rank_slots_.size() - 1;
    for (size_t i = (key * 0x9E3779B97F4A7C15ull) >> rank_shift_;; i = (i + 1) & mask) {
      const RankSlot& slot = rank_slots_[i];
      if (slot.left == p.left && slot.right == p.right) return slot.rank;
      if (slot.rank == kNoRank) return kNoRank;
    }
  }
  uint32_t Rank(TokenId left, TokenId right) const { return Rank(Pair{left, right}); }

  // Appends the bytes of ids to out; throws bpe::Error on an id that is not in the vocabulary, and
  // when the bytes would be more than max_bytes (the tokens of a hostile model can be terabytes).
  void Decode(std::span<const TokenId> ids, std::string& out, uint64_t max_bytes = uint64_t{1} << 36) const;

  // The vocabulary as bytes, for a cache file: its arrays, each padded to 8 bytes.
  std::string Save() const;
  // A vocabulary from Save's bytes, using them in place where aligned (a mapped file, which `keep`
  // keeps alive). Checked as the constructor checks a merge list, and every offset and table slot
  // for staying inside its array: bytes that do not hold together give nullptr.
  static std::unique_ptr<Vocabulary> Load(std::string_view bytes, std::shared_ptr<const void> keep);

  // Tables an encoder derives from the vocabulary (the backtracking encoder's trie, say), built as
  // T(vocab) on the first call, under a lock, then shared read-only by every encoder instance and
  // thread: an encoder factory calls this, so the cost is paid once per vocabulary, not per thread.
  template <typename T>
  const T& Derived() const {
    std::lock_guard<std::mutex> lock(derived_->mutex);
    std::shared_ptr<const void>& slot = derived_->tables[std::type_index(typeid(T))];
    if (!slot) slot = std::make_shared<const T>(*this);
    return *static_cast<const T*>(slot.get());
  }
  // Installs tables made elsewhere (read back from a cache) as Derived<T>()'s; false, and nothing
  // changed, when Derived<T>() has them already.
  template <typename T>
  bool InstallDerived(std::shared_ptr<const T> tables) const {
    std::lock_guard<std::mutex> lock(derived_->mutex);
    std::shared_ptr<const void>& slot = derived_->tables[std::type_index(typeid(T))];
    if (slot) return false;
    slot = std::move(tables);
    return true;
  }

 private:
  Vocabulary() = default;
  struct DerivedTables {
    std::mutex mutex;
    std::map<std::type_index, std::shared_ptr<const void>> tables;
  };
  // One slot of the pair -> rank table (open addressing, linear probing, at most half full); an
  // empty slot has rank kNoRank.
  struct RankSlot {
    TokenId left = 0, right = 0;
    uint32_t rank = kNoRank;
  };
  [[noreturn]] static void ThrowNotHeld(TokenId id);

  // Views of the arrays below, or of a mapped cache file (Load).
  std::span<const Pair> merges_;
  std::span<const uint64_t> lengths_;  // token id -> bytes (saturating at kMaxTokenLength)
  std::string_view bytes_;             // the held tokens' bytes, back to back
  std::span<const uint64_t> offsets_;  // token id -> start in bytes_ (held tokens only)
  std::span<const RankSlot> rank_slots_;
  int rank_shift_ = 63;  // 64 - log2(rank_slots_.size())
  uint64_t held_max_ = 0;
  bool all_held_ = true;

  MergeList merges_own_;
  std::vector<uint64_t> lengths_own_, offsets_own_;
  std::string bytes_own_;
  std::vector<RankSlot> rank_slots_own_;
  std::shared_ptr<const void> mapping_;
  std::unique_ptr<DerivedTables> derived_ = std::make_unique<DerivedTables>();
};

}  // namespace bpe

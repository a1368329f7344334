// The prepared, immutable vocabulary every encoder borrows (the GitHub `bpe` crate's layout): all
// token byte strings concatenated in one buffer with a start offset per token, and a pair -> rank
// hash map. Built once from a merge list, then shared read-only, also across threads.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
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

  size_t size() const { return offsets_.size() - 1; }
  const MergeList& merges() const { return merges_; }

  std::string_view TokenBytes(TokenId id) const {
    return std::string_view(bytes_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  // Rank of the merge for this pair, or kNoRank when the pair is not a merge.
  uint32_t Rank(Pair p) const {
    auto it = ranks_.find(PairKey(p));
    return it == ranks_.end() ? kNoRank : it->second;
  }
  uint32_t Rank(TokenId left, TokenId right) const { return Rank(Pair{left, right}); }

  // Appends the bytes of ids to out; throws bpe::Error on an id that is not in the vocabulary.
  void Decode(std::span<const TokenId> ids, std::string& out) const;

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

 private:
  struct DerivedTables {
    std::mutex mutex;
    std::map<std::type_index, std::shared_ptr<const void>> tables;
  };
  MergeList merges_;
  std::string bytes_;              // all token byte strings, back to back
  std::vector<uint32_t> offsets_;  // token id -> start in bytes_; one extra entry at the end
  boost::unordered_flat_map<uint64_t, uint32_t> ranks_;  // PairKey -> merge rank
  std::unique_ptr<DerivedTables> derived_ = std::make_unique<DerivedTables>();
};

}  // namespace bpe

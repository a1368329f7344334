// Encoder `heap`: the symbols of a piece as a doubly linked list over their byte positions, and a
// min-heap of (rank, position) for every adjacent pair that is a merge (HF tokenizers' word model).
// Popping gives the lowest rank, leftmost on ties since positions keep text order. Entries go stale
// when a neighbour merges; a popped entry is used only if the pair at its position still has that
// rank (a rank names exactly one pair, and ids never revert, so this is an exact check).
//
// Cost: O(n log n) per piece of n bytes: linear-ish on long pieces where `rank` is quadratic, at the
// price of heap traffic on the short pieces of ordinary text.
#include <algorithm>
#include <functional>

#include "algorithms/core/encoder.h"

namespace bpe {
namespace {

class HeapEncoder final : public Encoder {
 public:
  using Encoder::Encoder;

  void EncodePiece(std::string_view piece, std::vector<TokenId>& out) override {
    const Vocabulary& v = vocab();
    const uint32_t n = static_cast<uint32_t>(piece.size());
    ids_.resize(n);
    next_.resize(n);
    prev_.resize(n);
    heap_.clear();
    for (uint32_t i = 0; i < n; ++i) {
      ids_[i] = static_cast<uint8_t>(piece[i]);
      next_[i] = i + 1;  // n marks the end
      prev_[i] = i - 1;  // UINT32_MAX marks the start
    }
    for (uint32_t i = 0; i + 1 < n; ++i) Push(v.Rank(ids_[i], ids_[i + 1]), i);
    std::make_heap(heap_.begin(), heap_.end(), std::greater<>());

    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
      const uint64_t top = heap_.back();
      heap_.pop_back();
      const auto rank = static_cast<uint32_t>(top >> 32);
      const auto i = static_cast<uint32_t>(top);
      const uint32_t j = next_[i];
      // Stale: i was merged into its left neighbour, or the pair at i is no longer this merge.
      if (j >= n || ids_[i] == kDead || v.Rank(ids_[i], ids_[j]) != rank) continue;
      ids_[i] = MergedId(rank);
      ids_[j] = kDead;
      next_[i] = next_[j];
      if (next_[j] < n) prev_[next_[j]] = i;
      if (prev_[i] != UINT32_MAX) PushHeap(v.Rank(ids_[prev_[i]], ids_[i]), prev_[i]);
      if (next_[i] < n) PushHeap(v.Rank(ids_[i], ids_[next_[i]]), i);
    }
    for (uint32_t i = 0; i < n; i = next_[i]) out.push_back(ids_[i]);
  }

 private:
  static constexpr TokenId kDead = UINT32_MAX;

  void Push(uint32_t rank, uint32_t pos) {
    if (rank != Vocabulary::kNoRank) heap_.push_back((uint64_t{rank} << 32) | pos);
  }
  void PushHeap(uint32_t rank, uint32_t pos) {
    if (rank == Vocabulary::kNoRank) return;
    heap_.push_back((uint64_t{rank} << 32) | pos);
    std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
  }

  std::vector<TokenId> ids_;
  std::vector<uint32_t> next_, prev_;
  std::vector<uint64_t> heap_;  // (rank << 32) | position, min-heap
};

}  // namespace

std::unique_ptr<Encoder> MakeHeapEncoder(const Vocabulary& v) {
  return std::make_unique<HeapEncoder>(v);
}

}  // namespace bpe

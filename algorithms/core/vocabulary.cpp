#include "algorithms/core/vocabulary.h"

#include <algorithm>
#include <stdexcept>

#include "algorithms/core/error.h"
#include "algorithms/runtime/flat_arrays.h"

namespace bpe {

Vocabulary::Vocabulary(MergeList merges) : merges_own_(std::move(merges)) {
  merges_ = merges_own_;
  // 1. Validate the merges, measure every token, and fill the rank table (at most half full).
  size_t slots = 2;
  for (rank_shift_ = 63; slots < 2 * merges_.size() + 1; slots *= 2) --rank_shift_;
  rank_slots_own_.assign(slots, RankSlot{});
  auto& lengths = lengths_own_;
  lengths.assign(kByteAlphabet, 1);
  lengths.reserve(kByteAlphabet + merges_.size());
  for (size_t k = 0; k < merges_.size(); ++k) {
    const Pair p = merges_[k];
    const TokenId next = MergedId(k);
    if (p.left >= next || p.right >= next) {
      Fail("merge {} ({} {}) refers to a token id that does not exist yet (ids below {} exist)", k,
           p.left, p.right, next);
    }
    size_t i = (PairKey(p) * 0x9E3779B97F4A7C15ull) >> rank_shift_;
    for (; rank_slots_own_[i].rank != kNoRank; i = (i + 1) & (slots - 1)) {
      if (rank_slots_own_[i].left == p.left && rank_slots_own_[i].right == p.right) {
        Fail("merge {} ({} {}) repeats merge {}", k, p.left, p.right, rank_slots_own_[i].rank);
      }
    }
    rank_slots_own_[i] = RankSlot{p.left, p.right, static_cast<uint32_t>(k)};
    lengths.push_back(std::min(lengths[p.left] + lengths[p.right], kMaxTokenLength));
  }
  rank_slots_ = rank_slots_own_;
  lengths_ = lengths_own_;
  // 2. The longest length whose tokens, with all the shorter ones, fit the budget.
  const uint64_t budget = kHeldBytesBase + kHeldBytesPerMerge * merges_.size();
  std::vector<uint64_t> sorted = lengths;
  std::sort(sorted.begin(), sorted.end());
  uint64_t total = 0;
  held_max_ = 1;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    uint64_t same = 0;  // the bytes of all tokens of this length
    while (j < sorted.size() && sorted[j] == sorted[i]) same += sorted[j++];
    if (total + same > budget && sorted[i] > 1) break;
    total += same;
    held_max_ = sorted[i];
    i = j;
  }
  all_held_ = held_max_ == sorted.back();
  // 3. The held tokens' bytes: a held token's parts are shorter, so held too, and already in place
  // (append(str, pos, n) copies from the string itself correctly, reallocation or not).
  bytes_own_.reserve(total);
  offsets_own_.assign(lengths.size(), 0);
  for (unsigned b = 0; b < kByteAlphabet; ++b) {
    offsets_own_[b] = bytes_own_.size();
    bytes_own_.push_back(static_cast<char>(b));
  }
  for (size_t k = 0; k < merges_.size(); ++k) {
    const TokenId id = MergedId(k);
    if (lengths[id] > held_max_) continue;
    offsets_own_[id] = bytes_own_.size();
    const Pair p = merges_[k];
    bytes_own_.append(bytes_own_, offsets_own_[p.left], lengths[p.left]);
    bytes_own_.append(bytes_own_, offsets_own_[p.right], lengths[p.right]);
  }
  bytes_ = bytes_own_;
  offsets_ = offsets_own_;
}

using flat::GetArray;
using flat::GetU64;
using flat::PutArray;

std::string Vocabulary::Save() const {
  std::string out;
  const uint64_t head[3] = {held_max_, all_held_ ? 1u : 0u, static_cast<uint64_t>(rank_shift_)};
  out.append(reinterpret_cast<const char*>(head), sizeof head);
  PutArray(out, merges_);
  PutArray(out, lengths_);
  PutArray(out, offsets_);
  PutArray(out, std::span<const char>(bytes_.data(), bytes_.size()));
  PutArray(out, rank_slots_);
  return out;
}

std::unique_ptr<Vocabulary> Vocabulary::Load(std::string_view in, std::shared_ptr<const void> keep) {
  std::unique_ptr<Vocabulary> v(new Vocabulary());
  uint64_t held_max = 0, all_held = 0, shift = 0;
  std::span<const char> bytes;
  if (!GetU64(in, held_max) || !GetU64(in, all_held) || !GetU64(in, shift) ||
      !GetArray(in, v->merges_, v->merges_own_) || !GetArray(in, v->lengths_, v->lengths_own_) ||
      !GetArray(in, v->offsets_, v->offsets_own_) || !GetArray(in, bytes, v->bytes_own_) ||
      !GetArray(in, v->rank_slots_, v->rank_slots_own_) || !in.empty()) {
    return nullptr;
  }
  v->mapping_ = std::move(keep);
  v->bytes_ = std::string_view(bytes.data(), bytes.size());
  v->held_max_ = held_max;
  v->all_held_ = all_held != 0;
  // What the constructor would have checked or computed, and every index kept in bounds.
  const auto merges = v->merges_;
  const auto lengths = v->lengths_;
  if (lengths.size() != kByteAlphabet + merges.size() || v->offsets_.size() != lengths.size()) return nullptr;
  uint64_t longest = 1;
  for (size_t id = 0; id < lengths.size(); ++id) {
    uint64_t expected = 1;
    if (id >= kByteAlphabet) {
      const Pair p = merges[id - kByteAlphabet];
      if (p.left >= id || p.right >= id) return nullptr;
      expected = std::min(lengths[p.left] + lengths[p.right], kMaxTokenLength);
    }
    if (lengths[id] != expected) return nullptr;
    longest = std::max(longest, expected);
    if (expected <= held_max && (v->offsets_[id] > bytes.size() || bytes.size() - v->offsets_[id] < expected)) {
      return nullptr;
    }
  }
  if (held_max < 1 || v->all_held_ != (held_max >= longest)) return nullptr;
  const auto slots = v->rank_slots_;
  if (shift < 1 || shift > 63 || slots.size() != (size_t{1} << (64 - shift))) return nullptr;
  v->rank_shift_ = static_cast<int>(shift);
  // Every slot empty or a merge with its rank, one per merge, and one empty at least (a probe ends).
  size_t used = 0;
  for (const RankSlot& slot : slots) {
    if (slot.rank == kNoRank) continue;
    if (slot.rank >= merges.size() || merges[slot.rank] != Pair{slot.left, slot.right}) return nullptr;
    ++used;
  }
  if (used != merges.size() || used == slots.size()) return nullptr;
  return v;
}

void Vocabulary::ThrowNotHeld(TokenId id) {
  throw std::logic_error("the bytes of token " + std::to_string(id) + " are not held (see Vocabulary)");
}

void Vocabulary::AppendTokenBytes(TokenId id, std::string& out) const {
  // Left to right down the merge tree, with an explicit stack: a token's tree can be hundreds of
  // merges deep.
  std::vector<TokenId> stack = {id};
  while (!stack.empty()) {
    const TokenId t = stack.back();
    stack.pop_back();
    if (HasBytes(t)) {
      out += TokenBytes(t);
      continue;
    }
    const Pair p = merges_[t - kByteAlphabet];
    stack.push_back(p.right);
    stack.push_back(p.left);
  }
}

void Vocabulary::Decode(std::span<const TokenId> ids, std::string& out, uint64_t max_bytes) const {
  uint64_t bytes = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] >= size()) {
      Fail("token id {} at position {} is not in the vocabulary (ids 0..{})", ids[i], i, size() - 1);
    }
    bytes += lengths_[ids[i]];
    if (bytes > max_bytes) {
      Fail("the ids decode to more than {} bytes (token id {} at position {} alone is {} bytes)", max_bytes,
           ids[i], i, lengths_[ids[i]]);
    }
  }
  out.reserve(out.size() + bytes);
  for (TokenId id : ids) AppendTokenBytes(id, out);
}

}  // namespace bpe

// The counting table of distinct pieces: open addressing with linear probing, one 24-byte slot per
// piece, the key held in the slot. Web text has millions of distinct pieces, nearly all of them up
// to 15 bytes, so a piece of up to 15 bytes is its key, in two 64-bit words (its bytes, zero-padded,
// and its length in the top byte): a lookup compares two words, hashes two words, and touches the
// one cache line of its slot, where a map of std::string touched a control group, a slot and, for a
// key over 15 bytes, a string elsewhere. A longer piece's key is a pointer to its bytes with its
// length and 16 bits of its hash; the table keeps its own copy of those bytes (an arena of 1 MiB
// blocks, never moved), so the pointer stays good after the text that held it is gone.
//
// The slot of a key is found from its hash before it is added (Prefetch), so a caller that
// adds many keys asks for their slots' cache lines some keys ahead: with millions of pieces the
// table is gigabytes and every rare piece is a cache miss (text.cpp's counting does).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "algorithms/core/error.h"
#include "algorithms/runtime/hash.h"

namespace bpe {

static_assert(std::endian::native == std::endian::little, "PieceKey holds a piece's bytes in memory order");

// A piece as a key. Inline (up to 15 bytes): lo = bytes 0-7, hi = bytes 8-14 and the length in the
// top byte, unused bytes zero; so the key's 16 bytes in memory are the piece's bytes, zero-padded,
// and then its length. Long: lo = a pointer to the bytes, hi = kLong | 16 bits of hash << 40 |
// the length (up to 2^40 - 1 bytes). hi == 0 only in an empty slot (no piece is empty).
struct PieceKey {
  uint64_t lo = 0;
  uint64_t hi = 0;

  static constexpr size_t kInlineMax = 15;
  static constexpr uint64_t kLong = uint64_t{0xFF} << 56;
  static constexpr uint64_t kMaxLength = (uint64_t{1} << 40) - 1;

  bool is_long() const { return (hi >> 56) == 0xFF; }
  size_t size() const { return is_long() ? static_cast<size_t>(hi & kMaxLength) : static_cast<size_t>(hi >> 56); }
  // The piece's bytes; an inline key's live in the key itself (so the view lives as long as it).
  std::string_view view() const {
    return is_long() ? std::string_view(reinterpret_cast<const char*>(lo), size())
                     : std::string_view(reinterpret_cast<const char*>(this), size());
  }
};

// The key of `piece` and its hash. `readable_end`: the bytes up to it may be read (so up to 16
// bytes from the piece's start are loaded at once, without a copy, when they lie before it).
struct HashedKey {
  PieceKey key;
  uint64_t hash;
};
inline uint64_t MixInline(uint64_t lo, uint64_t hi) {
  uint64_t h = (lo ^ std::rotl(hi, 29)) * 0x9E3779B97F4A7C15ull;
  h ^= h >> 32;
  h = (h ^ hi) * 0xD6E8FEB86659FD93ull;
  return h ^ (h >> 29);
}
inline HashedKey MakeKey(std::string_view piece, const char* readable_end) {
  const size_t n = piece.size();
  PieceKey k;
  if (n <= PieceKey::kInlineMax) {
    if (piece.data() + 16 <= readable_end) {
      std::memcpy(&k.lo, piece.data(), 8);
      std::memcpy(&k.hi, piece.data() + 8, 8);
    } else {
      char buf[16] = {};
      std::memcpy(buf, piece.data(), n);
      std::memcpy(&k.lo, buf, 8);
      std::memcpy(&k.hi, buf + 8, 8);
    }
    // Keep the first n bytes: n < 8 masks lo and clears hi; otherwise hi keeps n - 8 bytes.
    if (n < 8) {
      k.lo &= (uint64_t{1} << (8 * n)) - 1;
      k.hi = 0;
    } else {
      k.hi &= (uint64_t{1} << (8 * (n - 8))) - 1;
    }
    k.hi |= uint64_t{n} << 56;
    return {k, MixInline(k.lo, k.hi)};
  }
  if (n > PieceKey::kMaxLength) Fail("a piece of {} bytes is longer than counting handles ({})", n, PieceKey::kMaxLength);
  const uint64_t h = Hash64(piece);
  k.lo = reinterpret_cast<uint64_t>(piece.data());
  k.hi = PieceKey::kLong | (((h >> 8) & 0xFFFF) << 40) | n;
  return {k, h};
}

class PieceTable {
 public:
  struct Slot {
    PieceKey key;
    uint64_t count;
  };

  size_t size() const { return size_; }
  // Bytes held: the slots and the long pieces' copies.
  size_t memory_bytes() const { return capacity() * sizeof(Slot) + arena_bytes_; }

  void Prefetch(uint64_t hash) const {
    if (slots_) __builtin_prefetch(&slots_[hash >> shift_], 1);
  }
  // Adds `count` to the key's count, making its slot (and, for a long key, copying its bytes) when
  // it is new.
  void Add(const HashedKey& k, uint64_t count) {
    if (size_ + 1 > grow_at_) Grow();
    const size_t mask = capacity() - 1;
    for (size_t i = k.hash >> shift_;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.key.hi == k.key.hi && (s.key.lo == k.key.lo || (k.key.is_long() && s.key.view() == k.key.view()))) {
        s.count += count;
        return;
      }
      if (s.key.hi == 0) {
        s.key = k.key;
        if (k.key.is_long()) s.key.lo = reinterpret_cast<uint64_t>(Copy(k.key.view()));
        s.count = count;
        ++size_;
        return;
      }
    }
  }
  // f(slot) for every piece's slot; they live as long as the table, unchanged.
  template <typename F>
  void ForEachSlot(F&& f) const {
    for (size_t i = 0; i < capacity(); ++i) {
      if (slots_[i].key.hi != 0) f(slots_[i]);
    }
  }

 private:
  size_t capacity() const { return slots_ ? size_t{1} << (64 - shift_) : 0; }
  static uint64_t HashOf(const PieceKey& k) { return k.is_long() ? Hash64(k.view()) : MixInline(k.lo, k.hi); }

  // Doubles the slots (at a load of 3/4; 4096 to start).
  void Grow() {
    const size_t old_capacity = capacity();
    const size_t capacity = old_capacity == 0 ? 4096 : 2 * old_capacity;
    std::unique_ptr<Slot[]> old = std::move(slots_);
    slots_ = std::make_unique<Slot[]>(capacity);  // zeroed: every slot empty
    shift_ = 64 - std::countr_zero(capacity);
    grow_at_ = capacity / 4 * 3;
    const size_t mask = capacity - 1;
    for (size_t j = 0; j < old_capacity; ++j) {
      if (old[j].key.hi == 0) continue;
      size_t i = HashOf(old[j].key) >> shift_;
      while (slots_[i].key.hi != 0) i = (i + 1) & mask;
      slots_[i] = old[j];
    }
  }
  const char* Copy(std::string_view bytes) {
    arena_bytes_ += bytes.size();
    if (bytes.size() > kBlock / 4) {
      auto& block = large_.emplace_back(std::make_unique_for_overwrite<char[]>(bytes.size()));
      std::memcpy(block.get(), bytes.data(), bytes.size());
      return block.get();
    }
    if (block_left_ < bytes.size()) {
      large_.push_back(std::make_unique_for_overwrite<char[]>(kBlock));
      block_next_ = large_.back().get();
      block_left_ = kBlock;
    }
    char* at = block_next_;
    std::memcpy(at, bytes.data(), bytes.size());
    block_next_ += bytes.size();
    block_left_ -= bytes.size();
    return at;
  }

  static constexpr size_t kBlock = size_t{1} << 20;
  std::unique_ptr<Slot[]> slots_;
  int shift_ = 64;
  size_t size_ = 0;
  size_t grow_at_ = 0;
  std::vector<std::unique_ptr<char[]>> large_;  // the arena's blocks, and the pieces too long for one
  char* block_next_ = nullptr;
  size_t block_left_ = 0;
  size_t arena_bytes_ = 0;
};

}  // namespace bpe

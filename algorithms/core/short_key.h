// Short byte strings (1..16 bytes) packed into two 64-bit words, for hash tables whose lookups must
// be one multiply and two word compares: no string hashing, no memcmp call. Used by the piece cache
// (`cached`) and the whole-token table of `backtrack`.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace bpe {

inline constexpr size_t kShortKeyMaxBytes = 16;

// Given the length the packing is one-to-one: the two loads may overlap, and every byte of the
// string lands in a known place in one of them. Reads only s's own bytes.
struct ShortKey {
  uint64_t lo = 0, hi = 0;
  uint32_t length = 0;
  bool operator==(const ShortKey&) const = default;
};

// s.size() must be 1..kShortKeyMaxBytes.
inline ShortKey PackShort(std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  ShortKey k;
  k.length = static_cast<uint32_t>(n);
  if (n >= 8) {
    std::memcpy(&k.lo, p, 8);
    std::memcpy(&k.hi, p + n - 8, 8);
  } else if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    k.lo = a | (uint64_t{b} << 32);
  } else {
    k.lo = static_cast<uint8_t>(p[0]) | (uint64_t{static_cast<uint8_t>(p[n / 2])} << 8) |
           (uint64_t{static_cast<uint8_t>(p[n - 1])} << 16);
  }
  return k;
}

// 64 well-mixed bits; tables take the top bits.
inline uint64_t HashShort(const ShortKey& k) {
  return (k.lo ^ (k.hi * 0xC2B2AE3D27D4EB4Full) ^ k.length) * 0x9E3779B97F4A7C15ull;
}

}  // namespace bpe

// Short byte strings (1..16 bytes) packed into two 64-bit words, for hash tables whose lookups must
// be one multiply and two word compares: no string hashing, no memcmp call. Used by the piece cache
// (`cached`) and the whole-token table of `backtrack`.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>
#if defined(__AVX512BW__) && defined(__AVX512VL__)
#include <immintrin.h>
#endif

namespace bpe {

inline constexpr size_t kShortKeyMaxBytes = 16;

// The string's bytes in order, zero-padded: lo holds bytes 0..7, hi bytes 8..15. With the length,
// one-to-one. Reads only s's own bytes.
struct ShortKey {
  uint64_t lo = 0, hi = 0;
  uint32_t length = 0;
  bool operator==(const ShortKey&) const = default;
};

static_assert(std::endian::native == std::endian::little, "PackShort's shifts assume little-endian");

// s.size() must be 1..kShortKeyMaxBytes. With AVX-512 (the release preset's -march=native on CPUs
// that have it) one masked load, which reads nothing past s and has no branch on the length; else
// two loads that may overlap, shifted into place.
inline ShortKey PackShort(std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  ShortKey k;
  k.length = static_cast<uint32_t>(n);
#if defined(__AVX512BW__) && defined(__AVX512VL__)
  const __m128i v = _mm_maskz_loadu_epi8(static_cast<__mmask16>((1u << n) - 1), p);
  k.lo = static_cast<uint64_t>(_mm_cvtsi128_si64(v));
  k.hi = static_cast<uint64_t>(_mm_extract_epi64(v, 1));
#else
  if (n >= 8) {
    std::memcpy(&k.lo, p, 8);
    if (n > 8) {
      uint64_t last;  // bytes n-8..n-1: drop the 16-n that lo already has
      std::memcpy(&last, p + n - 8, 8);
      k.hi = last >> (8 * (16 - n));
    }
  } else if (n >= 4) {
    uint32_t first, last;  // bytes 0..3 and n-4..n-1: keep the n-4 past byte 3
    std::memcpy(&first, p, 4);
    std::memcpy(&last, p + n - 4, 4);
    k.lo = first | ((uint64_t{last} >> (8 * (8 - n))) << 32);
  } else {
    k.lo = static_cast<uint8_t>(p[0]);
    if (n > 1) k.lo |= uint64_t{static_cast<uint8_t>(p[1])} << 8;
    if (n > 2) k.lo |= uint64_t{static_cast<uint8_t>(p[2])} << 16;
  }
#endif
  return k;
}

// 64 well-mixed bits; tables take the top bits.
inline uint64_t HashShort(const ShortKey& k) {
  return (k.lo ^ (k.hi * 0xC2B2AE3D27D4EB4Full) ^ k.length) * 0x9E3779B97F4A7C15ull;
}

}  // namespace bpe

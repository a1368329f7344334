// A fast 64-bit hash of a byte string, for cache keys and checksums (prepared.h): not
// cryptographic. Four independent lanes of 8-byte words (multiply, rotate), so it runs at several
// bytes per cycle: the 12 MB of cl100k_base's prepared tables hash in about a millisecond.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace bpe {

inline uint64_t Hash64(std::string_view s, uint64_t seed = 0) {
  constexpr uint64_t k1 = 0x9E3779B97F4A7C15ull, k2 = 0xC2B2AE3D27D4EB4Full, k3 = 0x165667B19E3779F9ull;
  auto mix = [](uint64_t h, uint64_t w) { return std::rotl((h ^ w) * k2, 31) * k1; };
  const char* p = s.data();
  size_t n = s.size();
  uint64_t lane[4] = {seed ^ k1, seed ^ k2, seed ^ k3, seed + n};
  for (; n >= 32; n -= 32, p += 32) {
    for (int i = 0; i < 4; ++i) {
      uint64_t w;
      std::memcpy(&w, p + 8 * i, 8);
      lane[i] = mix(lane[i], w);
    }
  }
  uint64_t h = std::rotl(lane[0], 1) + std::rotl(lane[1], 7) + std::rotl(lane[2], 12) + std::rotl(lane[3], 18);
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = mix(h, w);
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  h = mix(h, tail ^ (uint64_t{n} << 56));
  h ^= h >> 33;
  h *= k2;
  h ^= h >> 29;
  return h;
}

}  // namespace bpe

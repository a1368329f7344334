// Arrays of plain records in a byte string, for cache files that are mapped and used in place
// (formats/prepared.h: Vocabulary::Save/Load, SaveBacktrackTables/LoadBacktrackTables). Each array
// is its count (64-bit), its records, and zeros up to a multiple of 8 bytes, so that an array that
// starts 8-aligned in a page-aligned mapping is aligned for records of up to 8-byte alignment.
// Native byte order: the files belong to one machine.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace bpe::flat {

inline void PutU64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }

inline bool GetU64(std::string_view& in, uint64_t& v) {
  if (in.size() < sizeof v) return false;
  std::memcpy(&v, in.data(), sizeof v);
  in.remove_prefix(sizeof v);
  return true;
}

template <typename T>
void PutArray(std::string& out, std::span<const T> a) {
  static_assert(std::is_trivially_copyable_v<T> && alignof(T) <= 8);
  PutU64(out, a.size());
  out.append(reinterpret_cast<const char*>(a.data()), a.size() * sizeof(T));
  out.append((8 - out.size() % 8) % 8, '\0');
}

// The next array: a view of `in` itself where it is aligned for T, else a copy in `own` (a
// std::vector<T>, or a std::string for bytes). False when `in` is too short for it.
template <typename T, typename Own>
bool GetArray(std::string_view& in, std::span<const T>& a, Own& own) {
  uint64_t count = 0;
  if (!GetU64(in, count) || count > in.size() / sizeof(T)) return false;
  const size_t bytes = count * sizeof(T);
  if (reinterpret_cast<uintptr_t>(in.data()) % alignof(T) == 0) {
    a = std::span<const T>(reinterpret_cast<const T*>(in.data()), count);
  } else {
    own.resize(count);
    std::memcpy(own.data(), in.data(), bytes);
    a = std::span<const T>(reinterpret_cast<const T*>(own.data()), count);
  }
  in.remove_prefix(std::min(in.size(), bytes + (8 - bytes % 8) % 8));
  return true;
}

// Bytes, as an array of char: always a view of `in`.
inline void PutBytes(std::string& out, std::string_view bytes) { PutArray(out, std::span<const char>(bytes)); }
inline bool GetBytes(std::string_view& in, std::string_view& bytes) {
  std::span<const char> a;
  std::string unused;
  if (!GetArray(in, a, unused)) return false;
  bytes = std::string_view(a.data(), a.size());
  return true;
}

}  // namespace bpe::flat

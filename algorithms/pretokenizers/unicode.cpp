#include "algorithms/pretokenizers/unicode.h"

#include <array>

namespace bpe::unicode {

const uint8_t* BmpTable() {
  static const std::array<uint8_t, 0x10000> table = [] {
    std::array<uint8_t, 0x10000> t{};  // kOther, kCatOther
    for (const ClassRange& r : kClassRanges) {
      for (uint32_t cp = r.lo; cp <= r.hi && cp < 0x10000; ++cp) t[cp] = static_cast<uint8_t>((t[cp] & 0xF0) | r.cls);
    }
    for (const CategoryRange& r : kCategoryRanges) {
      for (uint32_t cp = r.lo; cp <= r.hi && cp < 0x10000; ++cp) t[cp] = static_cast<uint8_t>((t[cp] & 0x0F) | (r.cat << 4));
    }
    return t;
  }();
  return table.data();
}

}  // namespace bpe::unicode

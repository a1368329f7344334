// Block scanning for the regex-style pre-tokenizers: 64 bytes of text classified at a time into bit
// masks (letter, number, space, ...), from which a pre-tokenizer computes every piece start of the
// block at once, and the driver (ScanBlocks) that turns starts into piece ends for
// PreTokenizer::PieceEnds. A block that a White_Space code point of several bytes overlaps (rare in
// text) goes to the pre-tokenizer's PieceEnd instead: the masks place a run's last code point on its
// last byte. Used by gpt2.cpp and tiktoken_patterns.cpp; tests hold both to PieceEnd and PCRE2.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string_view>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "algorithms/core/pretokenizer.h"
#include "algorithms/pretokenizers/unicode.h"

namespace bpe::block_scan {

// The classes of one 64-byte block as bit masks: bit j is the byte at base + j. Every byte of a code
// point has the code point's class; bytes in none of letter, number and space are "other"
// (punctuation, symbols, invalid bytes).
struct BlockMasks {
  uint64_t letter = 0, number = 0, space = 0;  // \p{L}, \p{N}, \s
  uint64_t crlf = 0;        // '\r' and '\n' (a subset of space)
  uint64_t blank = 0;       // ' ', the one space that may prefix a piece
  uint64_t apostrophe = 0;  // where a contraction may start
  uint64_t upper = 0;       // 'A'..'Z' (o200k splits words at case changes)
  uint64_t slash = 0;       // '/' (o200k lets it follow punctuation with line breaks)
  bool multibyte_space = false;  // a White_Space code point of several bytes overlaps the block
  bool nonascii_letter = false;  // a letter (or, when asked for, a mark) of several bytes does
};

// ASCII bytes whose value is in [lo, lo + count), for 16 bytes: x - lo + 128, as a signed byte, is
// below -128 + count exactly for those (and never for bytes >= 0x80).
#if defined(__SSE2__)
inline __m128i InRange(__m128i v, char lo, int count) {
  const __m128i shifted = _mm_add_epi8(v, _mm_set1_epi8(static_cast<char>(128 - lo)));
  return _mm_cmplt_epi8(shifted, _mm_set1_epi8(static_cast<char>(-128 + count)));
}
inline uint64_t Bits(__m128i m) { return static_cast<uint32_t>(_mm_movemask_epi8(m)); }
#endif

// The masks of the block at base. Reads no byte past the text (the last block goes through a
// zero-padded copy); positions past the end count as space, so a trailing whitespace run stays one
// piece, as `\s+(?!\S)` makes it.
// kFindMarks: also flag combining marks in nonascii_letter (o200k counts them with letters).
template <bool kFindMarks = false>
BlockMasks ClassifyBlock(std::string_view t, size_t base) {
  BlockMasks m;
  const size_t n = t.size();
  const size_t count = n - base < 64 ? n - base : 64;
  const char* p = t.data() + base;
  char padded[64];
  if (count < 64) {
    std::memset(padded, 0, sizeof padded);
    std::memcpy(padded, p, count);
    p = padded;
  }
  uint64_t high = 0;
#if defined(__SSE2__)
  for (int c = 0; c < 4; ++c) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * c));
    const int shift = 16 * c;
    m.letter |= Bits(InRange(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 26)) << shift;
    m.number |= Bits(InRange(v, '0', 10)) << shift;
    const __m128i blank = _mm_cmpeq_epi8(v, _mm_set1_epi8(' '));
    m.space |= Bits(_mm_or_si128(blank, InRange(v, '\t', 5))) << shift;
    m.blank |= Bits(blank) << shift;
    m.crlf |= Bits(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n')))) << shift;
    m.apostrophe |= Bits(_mm_cmpeq_epi8(v, _mm_set1_epi8('\''))) << shift;
    m.upper |= Bits(InRange(v, 'A', 26)) << shift;
    m.slash |= Bits(_mm_cmpeq_epi8(v, _mm_set1_epi8('/'))) << shift;
    high |= Bits(v) << shift;
  }
#else
  for (int j = 0; j < 64; ++j) {
    const auto b = static_cast<uint8_t>(p[j]);
    const uint64_t bit = uint64_t{1} << j;
    if (b >= 0x80) {
      high |= bit;
      continue;
    }
    const unicode::CharClass c = unicode::kAsciiClass[b];
    if (c == unicode::kLetter) m.letter |= bit;
    if (c == unicode::kNumber) m.number |= bit;
    if (c == unicode::kSpace) m.space |= bit;
    if (b == ' ') m.blank |= bit;
    if (b == '\r' || b == '\n') m.crlf |= bit;
    if (b == '\'') m.apostrophe |= bit;
    if (b >= 'A' && b <= 'Z') m.upper |= bit;
    if (b == '/') m.slash |= bit;
  }
#endif
  // Non-ASCII bytes: the class of the code point each belongs to, as the scanner decodes it (a
  // continuation byte belongs to the valid sequence that starts up to 3 bytes before it, maybe in
  // the block before; otherwise it is an invalid byte on its own).
  size_t covered = base;  // bytes before this are classified
  while (high) {
    const size_t pos = base + static_cast<size_t>(std::countr_zero(high));
    high &= high - 1;
    if (pos < covered) continue;
    size_t start = pos;
    while (start > 0 && pos - start < 3 && (static_cast<uint8_t>(t[start]) & 0xC0) == 0x80) --start;
    const unicode::Decoded d = unicode::Decode(t, start);
    const bool valid = d.cp != unicode::kInvalid && start + d.length > pos;
    const size_t end = valid ? start + d.length : pos + 1;
    const unicode::CharClass c = valid ? unicode::ClassOf(d.cp) : unicode::kOther;
    const size_t last = end < base + 64 ? end : base + 64;
    const uint64_t span = (last - pos == 64 ? ~uint64_t{0} : ((uint64_t{1} << (last - pos)) - 1)) << (pos - base);
    if (c == unicode::kLetter) {
      m.letter |= span;
      m.nonascii_letter = true;
    } else if (kFindMarks && valid && c == unicode::kOther && unicode::CategoryOf(d.cp) == unicode::kCatMark) {
      m.nonascii_letter = true;
    }
    if (c == unicode::kNumber) m.number |= span;
    if (c == unicode::kSpace) {
      m.space |= span;
      m.multibyte_space = true;
    }
    covered = end;
  }
  if (count < 64) m.space |= ~uint64_t{0} << count;
  return m;
}

// What one block's scan carries into the next: starts to clear and set there (a contraction that
// ends there), and a run the next block goes on counting (cl100k's digits in threes): the position
// where it goes on, and how many code points its current group has.
struct Carry {
  uint64_t clear = 0, set = 0;
  size_t run_at = SIZE_MAX;  // SIZE_MAX: none
  int run_count = 0;
};

// Each position's neighbour in a mask: the bit of the byte before it (bit 0 takes bit 63 of the block
// before) and of the byte after it (bit 63 takes bit 0 of the block after).
inline uint64_t Prev(uint64_t block, uint64_t before) { return (block << 1) | (before >> 63); }
inline uint64_t Next(uint64_t block, uint64_t after) { return (block >> 1) | (after << 63); }

// Bit of position p in the block at base, or 0 when p is outside it.
inline uint64_t BitAt(size_t base, size_t p) { return p >= base && p < base + 64 ? uint64_t{1} << (p - base) : 0; }

// A piece start at p set or cleared in the block at base, or, when p lies in the next block, in what
// is carried there.
inline void SetStart(size_t base, size_t p, uint64_t& starts, Carry& out) {
  starts |= BitAt(base, p);
  out.set |= BitAt(base + 64, p);
}
inline void ClearStart(size_t base, size_t p, uint64_t& starts, Carry& out) {
  starts &= ~BitAt(base, p);
  out.clear |= BitAt(base + 64, p);
}

// Runs the scan. starts(t, base, before, block, after, piece, carry_in, carry_out, &starts) computes the
// piece starts of the block at base (bit j: a piece starts at base + j); the masks of the blocks
// before and after are given for the neighbours of its first and last bytes, `piece` is where the
// piece not yet emitted starts (always a piece start), carry_in what the block before left. It
// returns false to have the block scanned by pre.PieceEnd instead. Before the text, the scan sees a
// line break (so nothing joins the first piece); after it, space (so a trailing run stays whole).
template <bool kFindMarks = false, typename StartsFn>
void ScanBlocks(std::string_view t, const PreTokenizer& pre, PreTokenizer::EndsSink sink, StartsFn&& starts_of) {
  const size_t n = t.size();
  size_t ends[128];
  size_t count = 0;
  auto emit = [&](size_t end) {
    ends[count++] = end;
    if (count == std::size(ends)) {
      sink.fn(sink.context, ends, count);
      count = 0;
    }
  };
  size_t piece = 0;
  BlockMasks before, block, after;
  before.space = before.crlf = uint64_t{1} << 63;
  if (n > 0) block = ClassifyBlock<kFindMarks>(t, 0);
  Carry carry;
  for (size_t base = 0; base < n; base += 64) {
    if (base + 64 < n) {
      after = ClassifyBlock<kFindMarks>(t, base + 64);
    } else {
      after = BlockMasks{};
      after.space = ~uint64_t{0};
    }
    uint64_t starts = 0;
    Carry next;
    const bool masks = !block.multibyte_space && !before.multibyte_space && !after.multibyte_space &&
                       starts_of(t, base, before, block, after, piece, carry, next, starts);
    if (!masks) {
      while (piece < base + 64 && piece < n) {
        const size_t end = pre.PieceEnd(t, piece);
        emit(end);
        piece = end;
      }
      carry = Carry{};
    } else {
      carry = next;
      if (piece >= base + 64) starts = 0;
      else if (piece >= base) starts &= ~uint64_t{0} << (piece - base) << 1;  // only after `piece`
      if (n - base < 64) starts &= (uint64_t{1} << (n - base)) - 1;
      for (; starts; starts &= starts - 1) {
        const size_t start = base + static_cast<size_t>(std::countr_zero(starts));
        emit(start);
        piece = start;
      }
    }
    before = block;
    block = after;
  }
  if (piece < n) emit(n);
  if (count > 0) sink.fn(sink.context, ends, count);
}

}  // namespace bpe::block_scan

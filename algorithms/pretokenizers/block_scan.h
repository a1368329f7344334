// Block scanning for the regex-style pre-tokenizers: 64 bytes of text classified at a time into bit
// masks (letter, number, space, ...), from which a pre-tokenizer computes every piece start of the
// block at once, and the driver (ScanBlocks) that turns starts into piece ends for
// PreTokenizer::PieceEnds. A block whose masks cannot decide (a pre-tokenizer's starts function
// says which) goes to the pre-tokenizer's PieceEnd instead. Text of every script takes the masks:
// ASCII 16 bytes a step, Han and Hangul letters too, other code points of several bytes one at a
// time. Used by gpt2.cpp and tiktoken_patterns.cpp; tests hold both to PieceEnd and PCRE2.
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
  uint64_t slash = 0;       // '/' (o200k lets it follow punctuation with line breaks)
  // The bytes after the first of White_Space code points of several bytes (U+00A0, U+3000, ...):
  // a mask rule that places a space run's last code point on its last byte moves it back over
  // these to the code point's first byte (LastCodePoint).
  uint64_t space_tail = 0;
  // o200k's case classes. upper: Lu and Lt ('A'..'Z' always; letters of several bytes only with
  // kCaseClasses), o200k's first class and not its second. both: Lm and Lo (kCaseClasses only),
  // in both of its classes. The letters in neither are Ll, in its second class only.
  uint64_t upper = 0, both = 0;
  // kCaseClasses: combining marks (\p{M}), which o200k's word alternatives take in both classes
  // though they are not \p{L}; they are in letter and both as well, which is what they are right
  // after a letter (Indic vowel signs, accents written apart). Elsewhere (after a space, a digit,
  // punctuation) the pattern may take one as punctuation: the starts function hands such a block to
  // PieceEnd.
  uint64_t mark = 0;
};

// Whether a White_Space code point of several bytes straddles the block's start or end: its first
// byte and its last are then in different blocks, which the mask rules cannot relate (the starts
// functions hand such a block to PieceEnd).
inline bool SpaceStraddles(const BlockMasks& m, const BlockMasks& after) {
  return ((m.space_tail | after.space_tail) & 1) != 0;
}

// Each space run's last code point as a bit on its first byte, from bits on the runs' last bytes.
// For a block where no space code point straddles (SpaceStraddles): White_Space code points have at
// most 3 bytes, so two steps back over their later bytes reach the first.
inline uint64_t LastCodePoint(uint64_t last_bytes, const BlockMasks& m) {
  if (m.space_tail == 0) return last_bytes;  // most blocks
  for (int step = 0; step < 2; ++step) {
    last_bytes = (last_bytes & ~m.space_tail) | ((last_bytes & m.space_tail) >> 1);
  }
  return last_bytes;
}

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
// kCaseClasses: also o200k's case classes of letters of several bytes (upper, both) and its marks.
template <bool kCaseClasses = false>
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
  uint64_t tail = 0;  // 0x80..0xBF: a byte after a code point's first
  uint64_t fast = 0;  // first bytes of 3-byte letters found here (Han, Hangul), see below
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
  // Continuation bytes 0x80..0xBF: below 0xC0 as signed bytes, where ASCII is not.
  const __m128i first_lead = _mm_set1_epi8(static_cast<char>(0xC0));
  if (high && std::popcount(high) < 24) {  // a few: curly quotes in English, a foreign word
    for (int c = 0; c < 4; ++c) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * c));
      tail |= Bits(_mm_cmplt_epi8(v, first_lead)) << (16 * c);
    }
  } else if (high) {
    // Lead bytes that alone say "a letter of category Lo" when two continuation bytes follow:
    // E5..E9 and E4 B8..BF (U+4E00..U+9FFF, the CJK Unified Ideographs), EB..EC (U+B000..U+CFFF,
    // Hangul syllables). Chinese and Korean text is mostly these: no per-code-point work for them.
    uint64_t lead_lo = 0, e4 = 0, b8 = 0;
    for (int c = 0; c < 4; ++c) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * c));
      const int shift = 16 * c;
      tail |= Bits(_mm_cmplt_epi8(v, first_lead)) << shift;
      const __m128i han_hangul = _mm_or_si128(InRange(v, static_cast<char>(0xE5), 5), InRange(v, static_cast<char>(0xEB), 2));
      lead_lo |= Bits(han_hangul) << shift;
      e4 |= Bits(_mm_cmpeq_epi8(v, _mm_set1_epi8(static_cast<char>(0xE4)))) << shift;
      b8 |= Bits(InRange(v, static_cast<char>(0xB8), 8)) << shift;
    }
    fast = (lead_lo | (e4 & (b8 >> 1))) & (tail >> 1) & (tail >> 2);  // not at bits 62, 63: checked below
  }
#else
  for (int j = 0; j < 64; ++j) {
    const auto b = static_cast<uint8_t>(p[j]);
    const uint64_t bit = uint64_t{1} << j;
    if (b >= 0x80) {
      high |= bit;
      if (b < 0xC0) tail |= bit;
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
  if (fast) {
    const uint64_t bytes = fast | (fast << 1) | (fast << 2);
    m.letter |= bytes;
    if constexpr (kCaseClasses) m.both |= bytes;
  }
  // The other code points of several bytes, one at a time from their first bytes (a continuation
  // byte is part of the valid sequence that starts up to 3 bytes before it, maybe in the block
  // before; otherwise it is an invalid byte on its own, of no class, as is an invalid first byte).
  uint64_t todo = (high & ~tail & ~fast) | (tail & 1);
  if (todo == 0) {
    if (count < 64) m.space |= ~uint64_t{0} << count;
    return m;
  }
  const uint8_t* bmp = unicode::BmpTable();  // class in bits 0-1, category in bits 4-7
  for (; todo; todo &= todo - 1) {
    const size_t pos = base + static_cast<size_t>(std::countr_zero(todo));
    size_t start = pos;
    if (pos == base) {  // maybe a continuation byte of a code point from the block before
      while (start > 0 && pos - start < 3 && (static_cast<uint8_t>(t[start]) & 0xC0) == 0x80) --start;
    }
    const unicode::Decoded d = unicode::Decode(t, start);
    const uint32_t cp = d.cp, length = d.length;
    if (cp == unicode::kInvalid || start + length <= pos) continue;
    const size_t end = start + length;
    const size_t last = end < base + 64 ? end : base + 64;
    const uint64_t span = ((uint64_t{1} << (last - pos)) - 1) << (pos - base);  // last - pos <= 4
    const uint8_t entry = cp < 0x10000 ? bmp[cp]
                                       : static_cast<uint8_t>(unicode::ClassOf(cp) | (unicode::CategoryOf(cp) << 4));
    const auto c = static_cast<unicode::CharClass>(entry & 3);
    if (c == unicode::kLetter) {
      m.letter |= span;
      if constexpr (kCaseClasses) {
        const auto cat = static_cast<unicode::Category>(entry >> 4);
        if (cat == unicode::kCatLu || cat == unicode::kCatLt) m.upper |= span;
        if (cat == unicode::kCatLm || cat == unicode::kCatLo) m.both |= span;
      }
    } else if (c == unicode::kNumber) {
      m.number |= span;
    } else if (c == unicode::kSpace) {
      m.space |= span;
      m.space_tail |= start == pos ? span & (span - 1) : span;  // all but the first byte
    } else if constexpr (kCaseClasses) {
      if ((entry >> 4) == unicode::kCatMark) {  // o200k's words: a letter of both classes (see mark)
        m.mark |= span;
        m.letter |= span;
        m.both |= span;
      }
    }
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
template <bool kCaseClasses = false, typename StartsFn>
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
  if (n > 0) block = ClassifyBlock<kCaseClasses>(t, 0);
  Carry carry;
  for (size_t base = 0; base < n; base += 64) {
    if (base + 64 < n) {
      after = ClassifyBlock<kCaseClasses>(t, base + 64);
    } else {
      after = BlockMasks{};
      after.space = ~uint64_t{0};
    }
    uint64_t starts = 0;
    Carry next;
    const bool masks = starts_of(t, base, before, block, after, piece, carry, next, starts);
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

// `gpt2`: GPT-2's pre-tokenizer regex, written out as a scanner:
//
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// The alternatives are tried in order at each position, as a backtracking regex engine does. \s is
// the Unicode White_Space property (as in Rust's regex crate, hence tiktoken); \p{L} and \p{N} come
// from the generated tables (unicode.h). A byte that is not valid UTF-8 counts as one code point of
// none of these classes, so it joins a ` ?[^\s\p{L}\p{N}]+` run. tests/pretokenizer_test.cpp checks
// the scanner against PCRE2 running the pattern itself, on every shared corpus.
//
// Why a scanner and not a regex library: the scanner is a single forward pass with no backtracking
// beyond one code point (the `\s+(?!\S)` case), so it is linear on any input, where backtracking
// engines have overflowed their stacks on long runs of one character (tiktoken issues 15, 245).
//
// Two forms of it. PieceEnd scans one piece, a code point at a time. PieceEnds, which ForEachPiece
// uses, classifies 64 bytes at a time into bit masks and finds every piece start of the block from
// them at once (BlockStarts), with no branch per byte or per piece; it falls back to PieceEnd on a
// block that a White_Space code point of several bytes overlaps (rare in text), and the tests hold
// it to PieceEnd and to PCRE2.
#include <bit>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "algorithms/core/pretokenizer.h"
#include "algorithms/core/unicode.h"

namespace bpe {
namespace {

using unicode::CharClass;

// Length of the contraction ('s 't 're 've 'm 'll 'd, lowercase only, as in GPT-2) at i, or 0.
size_t ContractionLength(std::string_view t, size_t i) {
  if (t[i] != '\'' || i + 1 >= t.size()) return 0;
  const char a = t[i + 1];
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 < t.size()) {
    const char b = t[i + 2];
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  }
  return 0;
}

// Class of the code point that ends just before p (p > 0).
CharClass ClassBefore(std::string_view t, size_t p) {
  size_t start = p - 1;
  while (start > 0 && p - start < 4 && (static_cast<uint8_t>(t[start]) & 0xC0) == 0x80) --start;
  uint32_t length = 0;
  const CharClass c = unicode::ClassAt(t, start, &length);
  // If the sequence at start does not end exactly at p, the byte before p stands alone (invalid).
  return start + length == p ? c : unicode::kOther;
}


// The classes of one 64-byte block as bit masks: bit j is the byte at base + j. Every byte of a code
// point has the code point's class; bytes in none of letter, number and space are "other"
// (punctuation, symbols, invalid bytes).
struct BlockMasks {
  uint64_t letter = 0, number = 0, space = 0;  // \p{L}, \p{N}, \s
  uint64_t blank = 0;       // ' ', the one space that may prefix a piece
  uint64_t apostrophe = 0;  // where a contraction may start
  bool multibyte_space = false;  // a White_Space code point of several bytes overlaps the block
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
    m.apostrophe |= Bits(_mm_cmpeq_epi8(v, _mm_set1_epi8('\''))) << shift;
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
    if (b == '\'') m.apostrophe |= bit;
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
    if (c == unicode::kLetter) m.letter |= span;
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

// The piece starts among the block's positions k, from the classes at k - 1, k and k + 1 (bit 63 of
// `before`, the block, bit 0 of `after`), for text with no White_Space code point of several bytes:
//   - k starts a run of its class (letter, number, space, other) ...
//   - ... except where k follows a space run whose last byte is ' ': that space prefixes the piece
//     at k (` ?\p{L}+` and the like), so the piece starts there instead;
//   - the last byte of a space run that something other than space follows starts a piece
//     (`\s+(?!\S)` leaves it out of the run).
// Contractions are applied after (PieceEnds).
uint64_t BlockStarts(const BlockMasks& before, const BlockMasks& m, const BlockMasks& after) {
  const uint64_t letter_prev = (m.letter << 1) | (before.letter >> 63);
  const uint64_t number_prev = (m.number << 1) | (before.number >> 63);
  const uint64_t space_prev = (m.space << 1) | (before.space >> 63);
  const uint64_t blank_prev = (m.blank << 1) | (before.blank >> 63);
  const uint64_t space_next = (m.space >> 1) | (after.space << 63);
  const uint64_t run_start = (m.letter ^ letter_prev) | (m.number ^ number_prev) | (m.space ^ space_prev);
  const uint64_t after_blank = ~m.space & space_prev & blank_prev;
  return (run_start & ~after_blank) | (m.space & ~space_next);
}

class Gpt2 final : public PreTokenizer {
 public:
  Gpt2() { block_scanner_ = true; }

  size_t PieceEnd(std::string_view t, size_t i) const override {
    const size_t n = t.size();
    if (size_t c = ContractionLength(t, i)) return i + c;

    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space, then a run of one class.
    const size_t j = (t[i] == ' ' && i + 1 < n) ? i + 1 : i;
    uint32_t len = 0;
    const CharClass run = unicode::ClassAt(t, j, &len);
    if (run != unicode::kSpace) {
      size_t k = j + len;
      for (;;) {
        if (run == unicode::kLetter) k = unicode::SkipAsciiLetters(t, k);  // words: 16 bytes a step
        if (k >= n || unicode::ClassAt(t, k, &len) != run) return k;
        k += len;
      }
    }

    // `\s+(?!\S)` then `\s+`. From i (a space: otherwise the branch above matched), take the whole
    // whitespace run; if something other than whitespace follows, give back its last code point so
    // that it can prefix the next piece, unless the run is that one code point alone.
    size_t k = i;
    size_t last = i;
    while (k < n && unicode::ClassAt(t, k, &len) == unicode::kSpace) {
      last = k;
      k += len;
    }
    if (k == n || last == i) return k;
    return last;
  }

  void PieceEnds(std::string_view t, EndsSink sink) const override {
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
    size_t piece = 0;  // where the piece not yet emitted starts
    BlockMasks before, block, after;
    if (n > 0) block = ClassifyBlock(t, 0);
    uint64_t carry_clear = 0, carry_set = 0;  // a contraction's effect on the next block's starts
    for (size_t base = 0; base < n; base += 64) {
      if (base + 64 < n) {
        after = ClassifyBlock(t, base + 64);
      } else {
        after = BlockMasks{};
        after.space = ~uint64_t{0};  // past the end
      }
      if (block.multibyte_space || before.multibyte_space || after.multibyte_space) {
        // A space of several bytes: its last code point is not its last byte, which the masks
        // assume. Scan this block's pieces one by one.
        while (piece < base + 64 && piece < n) {
          const size_t end = PieceEnd(t, piece);
          emit(end);
          piece = end;
        }
        carry_clear = carry_set = 0;
      } else {
        uint64_t starts = (BlockStarts(before, block, after) & ~carry_clear) | carry_set;
        carry_clear = carry_set = 0;
        if (piece >= base && piece < base + 64) starts |= uint64_t{1} << (piece - base);  // the text's start
        // A contraction ('s 't 're 've 'm 'll 'd) at a piece start is a piece: its letters do not
        // start one, the byte after it does.
        for (uint64_t q = starts & block.apostrophe; q; q &= q - 1) {
          const size_t at = base + static_cast<size_t>(std::countr_zero(q));
          if (at < piece) continue;
          if (const size_t length = ContractionLength(t, at)) {
            const size_t letter = at + 1 - base, next = at + length - base;
            if (letter < 64) starts &= ~(uint64_t{1} << letter);
            else carry_clear |= uint64_t{1} << (letter - 64);
            if (next < 64) starts |= uint64_t{1} << next;
            else carry_set |= uint64_t{1} << (next - 64);
          }
        }
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

  // No piece contains a non-space code point followed by a space; and at such a point the scan
  // restarts with no memory of what came before, so the text splits there.
  size_t SafeBoundary(std::string_view t, size_t hint) const override {
    for (size_t p = hint < 1 ? 1 : hint; p < t.size(); ++p) {
      if ((t[p] == ' ' || t[p] == '\n') && ClassBefore(t, p) != unicode::kSpace) return p;
    }
    return t.size();
  }
};

}  // namespace

const PreTokenizer& Gpt2PreTokenizer() {
  static const Gpt2 instance;
  return instance;
}

}  // namespace bpe

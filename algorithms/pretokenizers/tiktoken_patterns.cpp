// `cl100k` and `o200k`: the pre-tokenizer patterns of tiktoken's cl100k_base and o200k_base, exactly
// as the rank files of the npm tiktoken package give them (`pat_str`), written out as scanners:
//
// cl100k  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
//         \s*[\r\n]+|\s+(?!\S)|\s+
// o200k   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|
//         [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|
//         \p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// Alternatives are tried in order at each position with a backtracking engine's semantics (the tests
// run the patterns themselves in PCRE2 on every shared corpus and on fuzzed text and compare). \s is
// Unicode White_Space, as in Rust's regex crate (tiktoken); categories come from the generated tables
// (Unicode version: unicode::kUnicodeVersion). (?i) folds case as Unicode does: 's also matches 'S and
// 'ſ (U+017F LATIN SMALL LETTER LONG S). An invalid UTF-8 byte is a code point of no category.
//
// Each scan is linear: the only backtracking (o200k's first alternative giving back letters of an
// upper-case run) is resolved in one forward pass by remembering the last code point of the run that
// the second class also accepts.
#include "algorithms/core/pretokenizer.h"
#include "algorithms/pretokenizers/unicode.h"
#include "algorithms/pretokenizers/block_scan.h"

namespace bpe {
namespace {

using unicode::FlagsAt;

bool IsCrLf(char c) { return c == '\r' || c == '\n'; }

// (?i:'s|'t|'re|'ve|'m|'ll|'d) at i: its length, or 0.
size_t Contraction(std::string_view t, size_t i) {
  const size_t n = t.size();
  if (i >= n || t[i] != '\'' || i + 1 >= n) return 0;
  const char a = static_cast<char>(t[i + 1] | 0x20);  // ASCII lower case (also maps some non-letters)
  if (t[i + 1] >= 'A' && t[i + 1] <= 'z') {
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (i + 2 < n && t[i + 2] >= 'A' && t[i + 2] <= 'z') {
      const char b = static_cast<char>(t[i + 2] | 0x20);
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    }
  }
  // U+017F (long s) folds to 's'.
  if (i + 2 < n && static_cast<uint8_t>(t[i + 1]) == 0xC5 && static_cast<uint8_t>(t[i + 2]) == 0xBF) return 3;
  return 0;
}

// End of the run of code points whose flags include `want`, from i.
size_t RunEnd(std::string_view t, size_t i, uint8_t want) {
  uint32_t len = 0;
  for (;;) {
    // ASCII words 16 bytes a step: letters are \p{L}, lower-case letters are also o200k's lowerish.
    if (want == unicode::kIsLetter) i = unicode::SkipAsciiLetters(t, i);
    if (want == unicode::kIsLowerish) i = unicode::SkipAsciiLower(t, i);
    if (i >= t.size() || !(FlagsAt(t, i, &len) & want)) return i;
    i += len;
  }
}

// The pattern's tail, shared by both: \p{N}{1,3} | ' ?[^\s\p{L}\p{N}]+' + trailing | \s*[\r\n]+ |
// \s+(?!\S) | \s+. `trailing_slash`: o200k lets '/' join the trailing [\r\n]*.
size_t Tail(std::string_view t, size_t i, uint8_t first_flags, bool trailing_slash) {
  const size_t n = t.size();
  uint32_t len = 0;
  if (first_flags & unicode::kIsNumber) {
    size_t k = i;
    for (int count = 0; count < 3 && k < n && (FlagsAt(t, k, &len) & unicode::kIsNumber); ++count) k += len;
    return k;
  }
  constexpr uint8_t kNotOther = unicode::kIsSpace | unicode::kIsLetter | unicode::kIsNumber;
  size_t j = i;
  if (t[i] == ' ' && i + 1 < n && !(FlagsAt(t, i + 1, &len) & kNotOther)) j = i + 1;
  if (!(FlagsAt(t, j, &len) & kNotOther)) {
    size_t k = j + len;
    while (k < n && !(FlagsAt(t, k, &len) & kNotOther)) k += len;
    while (k < n && (IsCrLf(t[k]) || (trailing_slash && t[k] == '/'))) ++k;
    return k;
  }
  // Here t[i] starts a whitespace run: \s*[\r\n]+ ends after its last \r or \n, if it has one;
  // else \s+(?!\S) gives back the last code point when something follows; else \s+.
  size_t k = i;
  size_t last = i;
  size_t after_newline = 0;
  while (k < n && (FlagsAt(t, k, &len) & unicode::kIsSpace)) {
    last = k;
    k += len;
    if (IsCrLf(t[last])) after_newline = k;
  }
  if (after_newline) return after_newline;
  if (k == n || last == i) return k;
  return last;
}

// A piece never holds a code point other than whitespace followed by a space (no alternative takes
// a space after anything but whitespace), and the scan from a position depends only on the text
// after it: so the text splits independently at every such space.
size_t SpaceAfterNonSpace(std::string_view t, size_t hint) {
  for (size_t p = hint < 1 ? 1 : hint; p < t.size(); ++p) {
    if (t[p] != ' ') continue;
    size_t start = p - 1;
    while (start > 0 && p - start < 4 && (static_cast<uint8_t>(t[start]) & 0xC0) == 0x80) --start;
    uint32_t len = 0;
    const uint8_t flags = FlagsAt(t, start, &len);
    if (start + len != p || !(flags & unicode::kIsSpace)) return p;  // an invalid byte is not space
  }
  return t.size();
}

// Bit i (0..127) of the 128 bits hi:lo.
bool BitOf(uint64_t lo, uint64_t hi, size_t i) { return ((i < 64 ? lo >> i : hi >> (i - 64)) & 1) != 0; }

// The lowest set bit above bit j (0..63) of the 128 bits after:cur, as an index 0..127; 128: none.
size_t NextBit(uint64_t cur, uint64_t after, size_t j) {
  const uint64_t above = j == 63 ? 0 : cur & (~uint64_t{0} << (j + 1));
  if (above) return static_cast<size_t>(std::countr_zero(above));
  if (after) return 64 + static_cast<size_t>(std::countr_zero(after));
  return 128;
}

// cl100k's (kO200k false) and o200k's piece starts in the block at base (block_scan.h has the
// arguments). Classes: letter, number, space (with \r \n as a subset), other. From the pattern, in
// mask form:
//   1. a run of one class starts a piece;
//   2. a space run's last code point (LastCodePoint: its first byte), when it is not \r or \n and
//      something other than space follows (\s+(?!\S)), starts a piece, and takes the next piece in
//      when that is letters ([^\r\n\p{L}\p{N}]?\p{L}+) or, for ' ', other (` ?[^\s\p{L}\p{N}]+`);
// then, in loops over the few places they concern:
//   3. a space run with \r or \n in it: \s*[\r\n]+ ends after the last of them, where a piece starts;
//   4. \r and \n right after other join it ([\r\n]* after ` ?[^\s\p{L}\p{N}]+`);
//   5. one code point of other (not after ' ') followed by letters is their prefix;
//   6. numbers go in threes (\p{N}{1,3});
//   7. a contraction at a piece start is a piece.
// o200k differs in three places: words also split where a capital follows a small letter (1: its
// case classes, which BlockMasks holds for every letter), a '/' may follow the line breaks of 4,
// and a contraction ends the word before it instead of being a piece (7).
// Returns false where a loop would look past the next block (a space or number run that long), and
// where the masks cannot tell (a space code point across the block's edge; for o200k, a mark after
// a non-letter and a capital after Lm, Lo or a mark).
template <bool kO200k>
bool TiktokenStarts(std::string_view t, size_t base, const block_scan::BlockMasks& before,
                  const block_scan::BlockMasks& m, const block_scan::BlockMasks& after, size_t piece,
                  const block_scan::Carry& in, block_scan::Carry& out, uint64_t& starts) {
  using block_scan::BitAt;
  using block_scan::Prev;
  const size_t n = t.size();
  const uint64_t letter = m.letter, number = m.number, space = m.space, crlf = m.crlf;
  const uint64_t other = ~(letter | number | space);
  const uint64_t letter_prev = Prev(letter, before.letter), number_prev = Prev(number, before.number);
  const uint64_t space_prev = Prev(space, before.space), crlf_prev = Prev(crlf, before.crlf);
  const uint64_t blank_prev = Prev(m.blank, before.blank);
  const uint64_t other_prev = ~(letter_prev | number_prev | space_prev);
  const uint64_t space_next = block_scan::Next(space, after.space);
  if (block_scan::SpaceStraddles(m, after)) return false;
  // 1 and 2.
  uint64_t run_start = (letter ^ letter_prev) | (number ^ number_prev) | (space ^ space_prev);
  if constexpr (kO200k) {
    // Words split where a capital (Lu, Lt: o200k's first class only) follows a letter of the second
    // class (Ll, or Lm and Lo, which are in both): the first alternative's [LB]+ stops there, and no
    // alternative splits a word elsewhere. Except after Lm or Lo: there the first alternative's
    // greedy [UB]* may run on over the capitals and find its [LB]+ after them, or give back to the
    // Lm or Lo, so where the piece ends depends on what follows (such a block goes to PieceEnd).
    // Marks count as letters of both classes (BlockMasks::mark) where they follow a letter or a
    // mark; a block near a mark after anything else (this block's or a neighbour's, whose masks
    // the rules read too; at the block before's first byte, what came before is not known here)
    // goes to PieceEnd.
    if (m.upper & Prev(m.both, before.both)) return false;
    auto stray_marks = [](const block_scan::BlockMasks& x, uint64_t letter_before) {
      return x.mark & ~Prev(x.letter, letter_before);
    };
    if (stray_marks(before, 0) || stray_marks(m, before.letter) || stray_marks(after, letter)) return false;
    run_start |= m.upper & Prev(letter & ~m.upper, before.letter & ~before.upper);
  }
  const uint64_t last_space = block_scan::LastCodePoint(space & ~space_next, m) & ~crlf;
  const uint64_t taken = space_prev & ~crlf_prev & ~space & (letter | (other & blank_prev));
  starts = ((run_start | last_space) & ~taken & ~in.clear) | in.set;
  starts |= BitAt(base, piece);
  auto set = [&](size_t p) { block_scan::SetStart(base, p, starts, out); };
  auto clear = [&](size_t p) { block_scan::ClearStart(base, p, starts, out); };
  // 3. A space after \r or \n starts a piece if no \r or \n follows in its run.
  for (uint64_t c = space & ~crlf & crlf_prev; c; c &= c - 1) {
    const size_t j = static_cast<size_t>(std::countr_zero(c));
    const size_t run_end = NextBit(~space, ~after.space, j);
    if (run_end == 128) return false;
    if (NextBit(crlf, after.crlf, j) > run_end) starts |= uint64_t{1} << j;
  }
  // 4. \r and \n right after other belong to its piece; the space run goes on after them.
  for (uint64_t c = crlf & other_prev; c; c &= c - 1) {
    const size_t j = static_cast<size_t>(std::countr_zero(c));
    const size_t after_crlf = NextBit(~crlf, ~after.crlf, j);
    if (after_crlf == 128) return false;
    if constexpr (kO200k) {  // [\r\n/]*: a '/' after the line breaks as well (rare: left to PieceEnd)
      if (BitOf(m.slash, after.slash, after_crlf)) return false;
    }
    starts &= ~(uint64_t{1} << j);
    if (BitOf(space, after.space, after_crlf)) set(base + after_crlf);
  }
  // 5. Letters after one code point of other, which ' ' does not prefix: one piece.
  for (uint64_t c = letter & other_prev; c; c &= c - 1) {
    const size_t k = base + static_cast<size_t>(std::countr_zero(c));
    size_t s = k - 1;  // the code point before k starts at s (a byte on its own unless a valid
    while (s > 0 && k - s < 4 && (static_cast<uint8_t>(t[s]) & 0xC0) == 0x80) --s;  // sequence ends at k)
    if (const unicode::Decoded d = unicode::Decode(t, s); d.cp == unicode::kInvalid || s + d.length != k) s = k - 1;
    // Its class and the one before it, from the masks (s - 1 >= base - 5: this block or the one before).
    auto bit = [&](uint64_t block_mask, uint64_t before_mask, size_t p) {
      return BitOf(before_mask, block_mask, p + 64 - base);
    };
    if (s == 0) {
      clear(k);
      continue;
    }
    const size_t b = s - 1;
    const bool other_before = !bit(letter, before.letter, b) && !bit(number, before.number, b) &&
                              !bit(space, before.space, b);
    // (At `piece` a piece starts whatever came before: o200k's [\r\n/]* may have ended the last one
    // with a '/' that the block before left to PieceEnd.)
    if (s == piece || (!other_before && !bit(m.blank, before.blank, b))) clear(k);
  }
  // 6. \p{N}{1,3}: a number run starts a piece every three code points. `count`: code points of the
  // current group before p; a run that goes on past the block is handed on in `out`.
  auto number_run = [&](size_t p, int count) {
    uint32_t len = 0;
    for (; p < n && (unicode::FlagsAt(t, p, &len) & unicode::kIsNumber); p += len) {
      if (p >= base + 64) {
        out.run_at = p;
        out.run_count = count;
        return;
      }
      if (count == 3) {
        starts |= uint64_t{1} << (p - base);
        count = 0;
      }
      ++count;
    }
  };
  if (in.run_at != SIZE_MAX) {
    number_run(in.run_at, in.run_count);
  } else if (number & number_prev & 1) {
    return false;  // a run from a block scanned by PieceEnd: where its groups fall is not known here
  }
  for (uint64_t c = number & ~number_prev; c; c &= c - 1) number_run(base + static_cast<size_t>(std::countr_zero(c)), 0);
  if constexpr (!kO200k) {
    // 7. Contractions at piece starts.
    for (uint64_t q = starts & m.apostrophe; q; q &= q - 1) {
      const size_t at = base + static_cast<size_t>(std::countr_zero(q));
      if (at < piece) continue;
      // Its letters start no piece already: an apostrophe at a piece start is one code point of
      // other before letters (5).
      if (const size_t length = Contraction(t, at)) set(at + length);
    }
  } else {
    // 7. o200k: a contraction right after a word ends the word's piece ((?i:'s|...)? after the
    // letters). Unless the word's letters follow an apostrophe themselves (a contraction or a
    // prefix: which one the pattern took is a chain), left to PieceEnd.
    for (uint64_t q = m.apostrophe & letter_prev; q; q &= q - 1) {
      const size_t j = static_cast<size_t>(std::countr_zero(q));
      const size_t at = base + j;
      const size_t length = Contraction(t, at);
      if (length == 0) continue;
      // The word's first letter: after the last non-letter before `at`, in this block or the one before.
      const uint64_t non_letter = ~letter & ((uint64_t{1} << j) - 1);
      size_t word;
      if (non_letter) {
        word = base + 64 - static_cast<size_t>(std::countl_zero(non_letter));
      } else if (~before.letter) {
        word = base - static_cast<size_t>(std::countl_zero(~before.letter));
      } else {
        return false;
      }
      if (word == 0 || t[word - 1] == '\'') return false;
      clear(at);
      set(at + length);
    }
  }
  return true;
}

class Cl100k final : public PreTokenizer {
 public:
  Cl100k() { block_scanner_ = true; }

  void PieceEnds(std::string_view t, EndsSink sink) const override {
    block_scan::ScanBlocks(t, *this, sink, TiktokenStarts<false>);
  }

  size_t PieceEnd(std::string_view t, size_t i) const override {
    if (size_t c = Contraction(t, i)) return i + c;
    uint32_t len = 0;
    const uint8_t f = FlagsAt(t, i, &len);
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!(f & (unicode::kIsLetter | unicode::kIsNumber)) && !IsCrLf(t[i]) && i + len < t.size()) {
      uint32_t next_len = 0;
      if (FlagsAt(t, i + len, &next_len) & unicode::kIsLetter) return RunEnd(t, i + len, unicode::kIsLetter);
    }
    if (f & unicode::kIsLetter) return RunEnd(t, i, unicode::kIsLetter);
    return Tail(t, i, f, false);
  }
  size_t SafeBoundary(std::string_view t, size_t hint) const override { return SpaceAfterNonSpace(t, hint); }
};

class O200k final : public PreTokenizer {
 public:
  O200k() { block_scanner_ = true; }

  void PieceEnds(std::string_view t, EndsSink sink) const override {
    block_scan::ScanBlocks</*kCaseClasses=*/true>(t, *this, sink, TiktokenStarts<true>);
  }

  size_t PieceEnd(std::string_view t, size_t i) const override {
    uint32_t len = 0;
    const uint8_t f = FlagsAt(t, i, &len);
    const bool prefix = !(f & (unicode::kIsLetter | unicode::kIsNumber)) && !IsCrLf(t[i]);
    // First alternative, with the prefix code point and then without it.
    if (prefix) {
      if (size_t end = UpperThenLower(t, i + len)) return end;
    }
    if (size_t end = UpperThenLower(t, i)) return end;
    // Second alternative, likewise.
    if (prefix) {
      if (size_t end = UpperRun(t, i + len)) return end;
    }
    if (size_t end = UpperRun(t, i)) return end;
    return Tail(t, i, f, true);
  }
  size_t SafeBoundary(std::string_view t, size_t hint) const override { return SpaceAfterNonSpace(t, hint); }

 private:
  // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|...)? from s: the end, or 0 when
  // it does not match. The first run is greedy; when nothing of the second class follows it, the
  // engine gives back code points of the run until one of them is of the second class as well.
  static size_t UpperThenLower(std::string_view t, size_t s) {
    const size_t n = t.size();
    uint32_t len = 0;
    size_t k = s;
    size_t last_lowerish = n;  // start of the run's last code point that is also of the second class
    uint8_t flags = 0;
    while (k < n && ((flags = FlagsAt(t, k, &len)) & unicode::kIsUpperish)) {
      if (flags & unicode::kIsLowerish) last_lowerish = k;
      k += len;
    }
    size_t lower_from;
    if (k < n && (flags & unicode::kIsLowerish)) {
      lower_from = k;
    } else if (last_lowerish < n) {
      lower_from = last_lowerish;
    } else {
      return 0;
    }
    const size_t end = RunEnd(t, lower_from, unicode::kIsLowerish);
    return end + Contraction(t, end);
  }

  // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|...)? from s, or 0.
  static size_t UpperRun(std::string_view t, size_t s) {
    const size_t upper_end = RunEnd(t, s, unicode::kIsUpperish);
    if (upper_end == s) return 0;
    const size_t end = RunEnd(t, upper_end, unicode::kIsLowerish);
    return end + Contraction(t, end);
  }
};

}  // namespace

const PreTokenizer& Cl100kPreTokenizer() {
  static const Cl100k instance;
  return instance;
}

const PreTokenizer& O200kPreTokenizer() {
  static const O200k instance;
  return instance;
}

}  // namespace bpe

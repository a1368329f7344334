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
// them at once (Gpt2Starts), with no branch per byte or per piece; it falls back to PieceEnd on a
// block whose edge a White_Space code point of several bytes crosses (rare in text), and the tests
// hold it to PieceEnd and to PCRE2.
#include "algorithms/core/pretokenizer.h"
#include "algorithms/pretokenizers/unicode.h"
#include "algorithms/pretokenizers/block_scan.h"

namespace bpe {
namespace {

using unicode::CharClass;
using block_scan::BlockMasks;

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

// The piece starts of the block at base (block_scan.h has the arguments); false (PieceEnd scans the
// block) where a White_Space code point of several bytes crosses the block's edge:
//   - a position starts a run of its class (letter, number, space, other) ...
//   - ... except after a space run whose last byte is ' ': that space prefixes the piece there
//     (` ?\p{L}+` and the like), so the piece starts at the space instead;
//   - the last code point of a space run that something other than space follows starts a piece
//     (`\s+(?!\S)` leaves it out of the run);
//   - a contraction ('s 't 're 've 'm 'll 'd) at a piece start is a piece: its letters do not start
//     one, the byte after it does.
bool Gpt2Starts(std::string_view t, size_t base, const BlockMasks& before, const BlockMasks& m,
                const BlockMasks& after, size_t piece, const block_scan::Carry& in, block_scan::Carry& out,
                uint64_t& starts) {
  using block_scan::Prev;
  if (block_scan::SpaceStraddles(m, after)) return false;
  const uint64_t space_prev = Prev(m.space, before.space);
  const uint64_t run_start = (m.letter ^ Prev(m.letter, before.letter)) | (m.number ^ Prev(m.number, before.number)) |
                             (m.space ^ space_prev);
  const uint64_t after_blank = ~m.space & space_prev & Prev(m.blank, before.blank);
  starts = (run_start & ~after_blank) | block_scan::LastCodePoint(m.space & ~block_scan::Next(m.space, after.space), m);
  starts = (starts & ~in.clear) | in.set;
  starts |= block_scan::BitAt(base, piece);
  for (uint64_t q = starts & m.apostrophe; q; q &= q - 1) {
    const size_t at = base + static_cast<size_t>(std::countr_zero(q));
    if (at < piece) continue;
    if (const size_t length = ContractionLength(t, at)) {
      block_scan::ClearStart(base, at + 1, starts, out);
      block_scan::SetStart(base, at + length, starts, out);
    }
  }
  return true;
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
    block_scan::ScanBlocks(t, *this, sink, Gpt2Starts);
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

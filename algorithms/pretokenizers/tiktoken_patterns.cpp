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
#include "algorithms/core/unicode.h"

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

class Cl100k final : public PreTokenizer {
 public:
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

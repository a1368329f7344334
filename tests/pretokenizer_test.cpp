// Pre-tokenizers: the gpt2 scanner against PCRE2 running GPT-2's pattern itself, known splits, the
// concatenation property on arbitrary bytes, safe split points, and thread-independent word counts.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <map>
#include <random>
#include <pcre2.h>

#include "algorithms/core/vocabulary.h"
#include "algorithms/pretokenizers/unicode.h"
#include "algorithms/registry.h"
#include "algorithms/runtime/text.h"
#include "tests/test_util.h"

namespace bpe {
namespace {

std::vector<std::string> Pieces(const std::string& pre, std::string_view text) {
  std::vector<std::string> out;
  FindPreTokenizer(pre).get().ForEachPiece(text, [&](std::string_view p) { out.emplace_back(p); });
  return out;
}

// GPT-2's pattern for PCRE2. \s is spelled out as the Unicode White_Space set, the meaning it has in
// Rust's regex crate (tiktoken); PCRE2's own \s differs in one code point (U+0085).
constexpr const char* kWhiteSpace =
    "\\t-\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";

// Spells out \s as kWhiteSpace in a pattern: \s -> [ws], \S -> [^ws], and \s inside a class.
std::string SpellOutSpace(std::string_view pattern) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      const char c = pattern[i + 1];
      if (c == 's') {
        out += in_class ? std::string(kWhiteSpace) : std::string("[") + kWhiteSpace + "]";
      } else if (c == 'S') {
        out += std::string("[^") + kWhiteSpace + "]";
      } else {
        out += pattern.substr(i, 2);
      }
      ++i;
      continue;
    }
    if (pattern[i] == '[') in_class = true;
    if (pattern[i] == ']') in_class = false;
    out += pattern[i];
  }
  return out;
}

// The patterns as tiktoken's rank files give them (pat_str), \s spelled out for PCRE2.
std::string PatternFor(std::string_view pre) {
  if (pre == "gpt2") return SpellOutSpace(R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)");
  if (pre == "cl100k") {
    return SpellOutSpace(
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)");
  }
  if (pre == "o200k") {
    return SpellOutSpace(
        R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|)"
        R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|)"
        R"(\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)");
  }
  ADD_FAILURE() << "no pattern for " << pre;
  return "";
}

std::vector<std::string> PcrePieces(std::string_view text, std::string_view pre = "gpt2") {
  int err = 0;
  PCRE2_SIZE offset = 0;
  const std::string pattern = PatternFor(pre);
  pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.c_str()), PCRE2_ZERO_TERMINATED,
                                 PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
  EXPECT_NE(re, nullptr) << "pattern does not compile at " << offset;
  pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(re, nullptr);
  std::vector<std::string> out;
  size_t pos = 0;
  uint32_t options = 0;  // UTF-8 is checked on the first call only: checking it on every call is O(n^2)
  while (pos < text.size()) {
    const int rc = pcre2_match(re, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), pos,
                               options, md, nullptr);
    options = PCRE2_NO_UTF_CHECK;
    if (rc < 0) break;
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    if (ov[0] != pos) {  // the pattern covers every character, so matches must be contiguous
      ADD_FAILURE() << "gap in PCRE2 matches at byte " << pos;
      break;
    }
    out.emplace_back(text.substr(ov[0], ov[1] - ov[0]));
    pos = ov[1];
  }
  pcre2_match_data_free(md);
  pcre2_code_free(re);
  return out;
}

void ExpectSamePieces(const std::vector<std::string>& actual, const std::vector<std::string>& expected) {
  const size_t n = std::min(actual.size(), expected.size());
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(actual[i], expected[i]) << "first different piece is number " << i;
  }
  ASSERT_EQ(actual.size(), expected.size());
}

TEST(Gpt2PreTokenizer, KnownSplits) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Pieces("gpt2", "Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(Pieces("gpt2", "I'm don't we'll they're I've he'd it's"),
            (V{"I", "'m", " don", "'t", " we", "'ll", " they", "'re", " I", "'ve", " he", "'d", " it", "'s"}));
  EXPECT_EQ(Pieces("gpt2", "IT'S"), (V{"IT", "'", "S"}));  // contractions are lowercase only
  EXPECT_EQ(Pieces("gpt2", "a  b"), (V{"a", " ", " b"}));  // \s+(?!\S) leaves the last space
  EXPECT_EQ(Pieces("gpt2", "a \n\nb"), (V{"a", " \n", "\n", "b"}));
  EXPECT_EQ(Pieces("gpt2", "end   "), (V{"end", "   "}));
  EXPECT_EQ(Pieces("gpt2", "x 123abc ?!."), (V{"x", " 123", "abc", " ?!."}));
  EXPECT_EQ(Pieces("gpt2", "caf\xC3\xA9 \xE4\xB8\x89\xE5\x9C\x8B"), (V{"caf\xC3\xA9", " \xE4\xB8\x89\xE5\x9C\x8B"}));
  // U+3000 is White_Space, but only an ASCII space may prefix a word.
  EXPECT_EQ(Pieces("gpt2", "a\xE3\x80\x80\xE3\x80\x80" "b"),
            (V{"a", "\xE3\x80\x80", "\xE3\x80\x80", "b"}));
}

// Every code point's class in the generated tables against PCRE2's Unicode properties, not only
// those that occur in the corpora: one match per code point, whose first matching group names its
// category with White_Space first, as the tables rank them.
TEST(UnicodeTables, EveryCodePointHasPcre2sCategory) {
  const std::string pattern = std::string("^(?:([") + kWhiteSpace +
                              "])|(\\p{Lu})|(\\p{Ll})|(\\p{Lt})|(\\p{Lm})|(\\p{Lo})|(\\p{M})|(\\p{N}))$";
  int err = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.c_str()), PCRE2_ZERO_TERMINATED,
                                 PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
  ASSERT_NE(re, nullptr) << "pattern does not compile at " << offset;
  pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(re, nullptr);
  // Group g (1..8) -> category; no group: other.
  constexpr unicode::Category kByGroup[] = {unicode::kCatOther, unicode::kCatSpace, unicode::kCatLu,
                                            unicode::kCatLl,    unicode::kCatLt,    unicode::kCatLm,
                                            unicode::kCatLo,    unicode::kCatMark,  unicode::kCatNumber};
  size_t checked = 0, differ = 0;
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;  // surrogates are not UTF-8
    char utf8[4];
    size_t n;
    if (cp < 0x80) {
      utf8[0] = static_cast<char>(cp), n = 1;
    } else if (cp < 0x800) {
      utf8[0] = static_cast<char>(0xC0 | (cp >> 6)), utf8[1] = static_cast<char>(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
      utf8[0] = static_cast<char>(0xE0 | (cp >> 12)), utf8[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      utf8[2] = static_cast<char>(0x80 | (cp & 0x3F)), n = 3;
    } else {
      utf8[0] = static_cast<char>(0xF0 | (cp >> 18)), utf8[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      utf8[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), utf8[3] = static_cast<char>(0x80 | (cp & 0x3F)), n = 4;
    }
    const int rc = pcre2_match(re, reinterpret_cast<PCRE2_SPTR>(utf8), n, 0, 0, md, nullptr);
    unicode::Category expected = unicode::kCatOther;
    if (rc > 0) {
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
      for (int g = 1; g < rc; ++g) {
        if (ov[2 * g] != PCRE2_UNSET) {
          expected = kByGroup[g];
          break;
        }
      }
    }
    const unicode::CharClass expected_class = expected == unicode::kCatSpace ? unicode::kSpace
                                              : expected == unicode::kCatNumber ? unicode::kNumber
                                              : expected == unicode::kCatOther || expected == unicode::kCatMark
                                                  ? unicode::kOther
                                                  : unicode::kLetter;
    ++checked;
    if (unicode::CategoryOf(cp) != expected || unicode::ClassOf(cp) != expected_class) {
      if (++differ <= 10) {
        ADD_FAILURE() << fmt::format("U+{:04X}: category {} class {}, PCRE2 says category {} class {}", cp,
                                     int(unicode::CategoryOf(cp)), int(unicode::ClassOf(cp)), int(expected),
                                     int(expected_class));
      }
    }
  }
  pcre2_match_data_free(md);
  pcre2_code_free(re);
  EXPECT_EQ(checked, 0x110000u - 0x800u);
  EXPECT_EQ(differ, 0u);
}

TEST(Gpt2PreTokenizer, AgreesWithPcre2OnEveryCorpus) {
  const std::vector<std::string> names = test::SmallCorpusNames();
  for (const auto& name : test::PresentCorpora(names)) {
    SCOPED_TRACE(name);
    const std::string text = test::CorpusSlice(name, SIZE_MAX);
    ExpectSamePieces(Pieces("gpt2", text), PcrePieces(text));
  }
  BPEBENCH_REQUIRE_CORPORA(names);  // the corpora present passed; the others were not checked
}

TEST(Gpt2PreTokenizer, AgreesWithPcre2OnTrickyText) {
  const std::vector<std::string> texts = {
      "  leading spaces", "trailing \t \n", "\r\n\r\n", "'s's''s 's", "1,234.56 vs ١٢٣ and Ⅻ",
      "tabs\t\tand\u00a0nbsp\u2003em", "mixed Ελληνικά и русский 漢字 ひらがな",
      "emoji 😀😀 and ZWJ 👩‍👩‍👧", "a\u0085b \u0085 c",  // NEL: White_Space, not PCRE's \s
      std::string(5000, ' ') + "x" + std::string(3000, '\n'), "",
  };
  for (const auto& t : texts) {
    SCOPED_TRACE(t.substr(0, 30));
    ExpectSamePieces(Pieces("gpt2", t), PcrePieces(t));
  }
  std::mt19937_64 rng(3);
  for (int i = 0; i < 300; ++i) {  // random mixes of classes that interact
    const std::string t = test::RandomText(rng, rng() % 40, "a1 '\n\t.sx");
    ExpectSamePieces(Pieces("gpt2", t), PcrePieces(t));
  }
}

// Text for the block scanners (gpt2, cl100k; 64 bytes at a time): mostly ASCII words, spaces and contractions,
// so that many blocks take the bit-mask path, with the rarer fragments (multi-byte letters, digits,
// punctuation and White_Space, invalid bytes when `invalid`) at a rate that varies from text to
// text, and lengths that cross several block boundaries.
std::string BlockScannerText(std::mt19937_64& rng, bool invalid) {
  static const std::vector<std::string> common = {"a", "Z", "s", "t", "l", "e", "d", "'", "1", " ", " ",  "  ",
                                                  "\n", "\t", ".", ",", "'s", "'ll", "'re", "'t", "'S", "'LL",
                                                  "\r\n", "\n\n", " \n", "!\n", "(", "2024", "123456",
                                                  "/", "!\n/", "It", "dON"};
  std::vector<std::string> rare = {"\xC3\xA9", "\xE2\x80\x99", "\xC2\xA0", "\xE3\x80\x80", "\xC2\x85",
                                   "\xD9\xA3", "\xF0\x9F\x98\x80", "\x0B", "\x1C", "\xC5\xBF", "\xCC\x81",
                                   std::string(70, ' '), std::string(70, '\n'), std::string(140, '7')};
  if (invalid) rare.insert(rare.end(), {"\xFF", "\x80", "\xE2\x80", "\xC3", "\xBF\xBF", "\xF4\x90\x80\x80"});
  const double rates[] = {0.0, 0.003, 0.03, 0.3};
  const double rate = rates[rng() % 4];
  const size_t length = rng() % 700;
  std::string t;
  while (t.size() < length) {
    const bool pick_rare = std::uniform_real_distribution<double>(0, 1)(rng) < rate;
    const auto& from = pick_rare ? rare : common;
    t += from[rng() % from.size()];
  }
  return t;
}

// Text of other scripts for the block scanners, which classify Han and Hangul letters 16 bytes at a
// time and other code points of several bytes one at a time: Han from both edges of the lead bytes
// taken whole (U+4E00 E4 B8 80, U+9FFF E9 BF BF) and just outside them (U+4DC0, a symbol, E4 B7 80;
// U+3400), Hangul inside and outside the lead bytes taken whole, kana (Lo, Lm, a mark, punctuation),
// the ideographic space and NBSP in runs, Cyrillic and Greek capitals and small letters, title
// case (U+01C5), modifier letters (U+02B0), Chinese punctuation, Devanagari letters and marks
// (vowel signs, virama, anusvara) and a combining accent after letters and alone, ASCII of both
// cases, digits and contractions. With `invalid`, truncated sequences and stray continuation bytes too.
std::string ScriptText(std::mt19937_64& rng, bool invalid) {
  static const std::vector<std::string> units = {
      "\xE4\xB8\x80", "\xE4\xBA\xBA", "\xE5\xBC\xB5", "\xE7\x8E\x84", "\xE9\xBF\xBF", "\xE4\xB7\x80",
      "\xE3\x90\x80", "\xEA\xB0\x80", "\xEB\x8B\xA4", "\xEC\x95\x88", "\xED\x9E\xA3", "\xE3\x81\x82",
      "\xE3\x83\xBC", "\xE3\x82\x99", "\xE3\x80\x82", "\xE3\x80\x80", "\xE3\x80\x80\xE3\x80\x80", "\xC2\xA0",
      "\xD0\x91", "\xD0\xB1", "\xCE\xA9", "\xCF\x89", "\xC7\x85", "\xCA\xB0", "\xEF\xBC\x8C", "\xEF\xBC\x9A",
      "\xE3\x80\x8C", "A", "b", "Zq", "'s", "'LL", "7", "12345", " ", " ", "\n", "\r\n", ".", "\t", "!\n/",
      "\xE0\xA4\xAE\xE0\xA4\xBE", "\xE0\xA4\xA8\xE0\xA4\xB5", "\xE0\xA5\x8D", "\xE0\xA4\x82", "e\xCC\x81", "\xCC\x81"};
  static const std::vector<std::string> broken = {"\xE5\xBC", "\xE4\xB8", "\x80", "\xBF\xBF", "\xE3\x80", "\xC2",
                                                   "\xE0\x81\x81", "\xC1\x81", "\xED\xA0\x80", "\xF0\x9F\x98"};
  const size_t length = rng() % 700;
  std::string t;
  while (t.size() < length) {
    t += invalid && rng() % 20 == 0 ? broken[rng() % broken.size()] : units[rng() % units.size()];
  }
  return t;
}

std::vector<std::string> PiecesByPieceEnd(const std::string& pre, std::string_view text) {
  std::vector<std::string> out;
  FindPreTokenizer(pre).get().ForEachPieceByPieceEnd(text, [&](std::string_view p) { out.emplace_back(p); });
  return out;
}

const char* const kBlockScanners[] = {"gpt2", "cl100k", "o200k"};

TEST(BlockScanners, AgreeWithPcre2AndPieceEnd) {
  for (const char* pre : kBlockScanners) {
    ASSERT_TRUE(FindPreTokenizer(pre).get().has_block_scanner()) << pre;
    std::mt19937_64 rng(17);
    for (int i = 0; i < 3000; ++i) {
      const std::string t = i % 2 ? ScriptText(rng, /*invalid=*/false) : BlockScannerText(rng, /*invalid=*/false);
      SCOPED_TRACE(::testing::Message() << pre << ": text " << i << " of " << t.size() << " bytes");
      const auto pieces = Pieces(pre, t);
      ExpectSamePieces(pieces, PcrePieces(t, pre));
      ExpectSamePieces(pieces, PiecesByPieceEnd(pre, t));
    }
  }
}

// PieceEnds called directly (the default, which batches PieceEnd, for the others).
std::vector<std::string> PiecesByPieceEnds(const std::string& pre, std::string_view text) {
  std::vector<std::string> out;
  size_t begin = 0;
  auto collect = [&](const size_t* ends, size_t count) {
    for (size_t j = 0; j < count; ++j) {
      out.emplace_back(text.substr(begin, ends[j] - begin));
      begin = ends[j];
    }
  };
  FindPreTokenizer(pre).get().PieceEnds(text, PreTokenizer::EndsSink{&collect, [](void* c, const size_t* e, size_t n) {
                                                                        (*static_cast<decltype(collect)*>(c))(e, n);
                                                                      }});
  return out;
}

// Invalid UTF-8, which PCRE2 refuses: every pre-tokenizer's PieceEnds and ForEachPiece against PieceEnd.
TEST(BlockScanners, AgreeWithPieceEndOnInvalidUtf8) {
  for (const auto& info : PreTokenizers()) {
    const std::string pre(info.name);
    std::mt19937_64 rng(19);
    for (int i = 0; i < 1500; ++i) {
      const std::string t = i % 5 == 0   ? test::RandomBytes(rng, rng() % 400)
                            : i % 5 == 1 ? ScriptText(rng, /*invalid=*/true)
                                         : BlockScannerText(rng, /*invalid=*/true);
      SCOPED_TRACE(::testing::Message() << pre << ": text " << i << " of " << t.size() << " bytes");
      const auto reference = PiecesByPieceEnd(pre, t);
      ExpectSamePieces(Pieces(pre, t), reference);
      ExpectSamePieces(PiecesByPieceEnds(pre, t), reference);
    }
  }
}

// The tiktoken patterns: known splits, then PCRE2 running the pattern itself.
TEST(TiktokenPreTokenizers, KnownSplits) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Pieces("cl100k", "Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(Pieces("cl100k", "IT'S we'LL"), (V{"IT", "'S", " we", "'LL"}));  // case-insensitive
  EXPECT_EQ(Pieces("cl100k", "12345 x"), (V{"123", "45", " x"}));          // digits in threes
  EXPECT_EQ(Pieces("cl100k", "a  \n\n  b"), (V{"a", "  \n\n", " ", " b"}));  // \s*[\r\n]+ first
  EXPECT_EQ(Pieces("cl100k", "x!!\n\ny"), (V{"x", "!!\n\n", "y"}));        // newlines join punctuation
  EXPECT_EQ(Pieces("cl100k", "(hello"), (V{"(hello"}));                   // one non-letter prefix
  EXPECT_EQ(Pieces("o200k", "HelloWorld ABCdef"), (V{"Hello", "World", " ABCdef"}));
  EXPECT_EQ(Pieces("o200k", "IT'S it's"), (V{"IT'S", " it's"}));
  EXPECT_EQ(Pieces("o200k", "a/b//\n"), (V{"a", "/b", "//\n"}));
  EXPECT_EQ(Pieces("o200k", "\xE6\x97\xA5" "A "), (V{"\xE6\x97\xA5", "A", " "}));  // 日 then A: U+L gives back
  EXPECT_EQ(Pieces("cl100k", "'\xC5\xBF"), (V{"'\xC5\xBF"}));  // 'ſ: (?i) folds U+017F to s
}

TEST(TiktokenPreTokenizers, AgreeWithPcre2OnEveryCorpus) {
  const std::vector<std::string> names = test::SmallCorpusNames();
  for (const char* pre : {"cl100k", "o200k"}) {
    for (const auto& name : test::PresentCorpora(names)) {
      SCOPED_TRACE(std::string(pre) + " on " + name);
      const std::string text = test::CorpusSlice(name, SIZE_MAX);
      ExpectSamePieces(Pieces(pre, text), PcrePieces(text, pre));
    }
  }
  BPEBENCH_REQUIRE_CORPORA(names);  // the corpora present passed; the others were not checked
}

TEST(TiktokenPreTokenizers, AgreeWithPcre2OnTrickyText) {
  const std::vector<std::string> texts = {
      "  leading spaces", "trailing \t \n", "\r\n\r\n", "'s's''s 's 'S 'Re 'LL 'ſ", "1,234.56 vs ١٢٣ and Ⅻ",
      "tabs\t\tand\u00a0nbsp\u2003em", "mixed Ελληνικά и русский 漢字 ひらがな ǅemal ʰmod",
      "emoji 😀😀 and ZWJ 👩‍👩‍👧", "a\u0085b \u0085 c", "e\u0301 \u0301x A\u0301B \u0915\u094d\u0937",
      "http://a.b/c//d\n/\n", "x//\r\n", "CamelCaseWORDSAndMore", std::string(3000, ' ') + "x" + std::string(2000, '\n'),
      "",
  };
  for (const char* pre : {"cl100k", "o200k"}) {
    for (const auto& t : texts) {
      SCOPED_TRACE(std::string(pre) + ": " + t.substr(0, 30));
      ExpectSamePieces(Pieces(pre, t), PcrePieces(t, pre));
    }
    // Random mixes of code points from the classes that interact: lower, upper, title case (ǅ),
    // modifier (ʰ), other letter (日), marks (U+0301), digits, spaces, CR/LF, slash, apostrophe, s/S/ſ.
    const std::vector<std::string> units = {"a", "A", "1", " ", "'", "\n", "\r", "\t", ".", "s", "S", "/", "L",
                                            "\xC3\xA9", "\xCC\x81", "\xE6\x97\xA5", "\xCA\xB0", "\xC7\x85",
                                            "\xC5\xBF", "\xE3\x80\x80", "\xD9\xA3"};
    std::mt19937_64 rng(3);
    for (int i = 0; i < 5000; ++i) {
      std::string t;
      for (size_t k = rng() % 40; k > 0; --k) t += units[rng() % units.size()];
      SCOPED_TRACE(std::string(pre) + ": " + t);
      ExpectSamePieces(Pieces(pre, t), PcrePieces(t, pre));
    }
  }
}

TEST(WhitespacePreTokenizer, KnownSplits) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Pieces("whitespace", "Hello world\n\nNext  "), (V{"Hello", " world", "\n\nNext", "  "}));
  EXPECT_EQ(Pieces("whitespace", "  x"), (V{"  x"}));
}

TEST(NonePreTokenizer, KnownSplits) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Pieces("none", "one line\nsecond\n\nlast"), (V{"one line\n", "second\n", "\n", "last"}));
}

TEST(PreTokenizers, PiecesConcatenateBackToAnyBytes) {
  std::mt19937_64 rng(11);
  for (const auto& pre : PreTokenizers()) {
    for (int i = 0; i < 200; ++i) {
      const std::string bytes = test::RandomBytes(rng, rng() % 300);
      std::string joined;
      for (const auto& p : Pieces(std::string(pre.name), bytes)) {
        ASSERT_FALSE(p.empty());
        joined += p;
      }
      ASSERT_EQ(joined, bytes) << pre.name;
    }
  }
}

TEST(PreTokenizers, SafeBoundariesSplitLikeTheWholeText) {
  BPEBENCH_REQUIRE_CORPORA("udhr59");
  std::mt19937_64 rng(5);
  const std::string sample = test::CorpusSlice("udhr59", 400'000).substr(200'000);
  for (const auto& info : PreTokenizers()) {
    const PreTokenizer& pre = info.get();
    for (int i = 0; i < 300; ++i) {
      std::string text = i % 2 ? test::RandomText(rng, rng() % 200, "ab \n\t'1\xE3\x80\x80")
                              : sample.substr(rng() % 100'000, 2000);
      const size_t p = pre.SafeBoundary(text, text.empty() ? 0 : rng() % text.size());
      ASSERT_LE(p, text.size());
      auto whole = Pieces(std::string(info.name), text);
      auto left = Pieces(std::string(info.name), text.substr(0, p));
      auto right = Pieces(std::string(info.name), text.substr(p));
      left.insert(left.end(), right.begin(), right.end());
      ASSERT_EQ(left, whole) << info.name << " split at " << p;
    }
  }
}

TEST(WordCounting, SameCountsForEveryThreadCount) {
  BPEBENCH_REQUIRE_CORPORA("zh_sanguo");
  const std::string text = test::CorpusSlice("zh_sanguo", 300'000) + test::CorpusSlice("gutenberg5", 300'000);
  for (const auto& pre : PreTokenizers()) {
    const WordCounts one = test::Count(text, std::string(pre.name), 1);
    uint64_t total = 0;
    for (const auto& wc : one) total += wc.word.size() * wc.count;
    EXPECT_EQ(total, text.size()) << pre.name;  // every byte counted once
    for (int threads : {2, 3, 7}) EXPECT_EQ(test::Count(text, std::string(pre.name), threads), one);
  }
}

// Enough distinct pieces that the sort is split across threads (key ranges cut at sampled keys):
// pieces that share their first 8 bytes or more (the sort's numeric prefix ties), up to 20 bytes,
// of one length differing only in the last byte (next to each other once sorted), differing only by
// trailing 0 bytes (the prefix's zero padding), bytes above 0x7F (sorted as unsigned), repeats, and
// pieces that occur in more than one thread's chunk. Every thread count gives the same sorted,
// summed counts as a std::map.
TEST(WordCounting, ManyDistinctPiecesSortedAndSummedOnEveryThreadCount) {
  std::mt19937_64 rng(11);
  const std::vector<std::string> stems = {"", "abcdef", "abcdefgh", "abcdefghij", "\xc3\xa9t\xc3\xa9\xc3\xa9t\xc3\xa9",
                                          "abcdefghijklmno", "abcdefghijklmnopqrs"};
  std::string text;
  while (text.size() < 800'000) {
    text += ' ';
    text += stems[rng() % stems.size()];
    const size_t letters = 1 + rng() % 5;
    for (size_t i = 0; i < letters; ++i) text += static_cast<char>('a' + rng() % 26);
    if (rng() % 7 == 0) text += "\xc3\xa9";  // é: a letter, two bytes above 0x7F
    if (rng() % 11 == 0) text += std::string(1 + rng() % 2, '\0');
    // 18-byte pieces that differ only in their last byte, next to each other once sorted.
    if (rng() % 13 == 0) text += std::string(" abcdefghijklmnopq") + static_cast<char>('a' + rng() % 26);
  }
  for (const char* name : {"gpt2", "whitespace"}) {
    std::map<std::string, uint64_t> want;
    FindPreTokenizer(name).get().ForEachPiece(text, [&](std::string_view p) { ++want[std::string(p)]; });
    ASSERT_GT(want.size(), 30'000u) << name;  // well past the one-thread cut-off (16384 keys)
    for (int threads : {1, 2, 3, 8}) {
      const WordCounts got = test::Count(text, name, threads);
      ASSERT_EQ(got.size(), want.size()) << name << ", " << threads << " threads";
      size_t i = 0;
      for (const auto& [word, count] : want) {
        ASSERT_EQ(got[i].word, word) << name << ", " << threads << " threads, entry " << i;
        ASSERT_EQ(got[i].count, count) << name << ", " << threads << " threads, '" << word << "'";
        ++i;
      }
    }
  }
}

// Streamed counting (the CLI's training input) must equal counting the whole text, for any block
// size: blocks much smaller than a piece, a line with no boundary at all, random bytes.
TEST(WordCounting, StreamedInBlocksEqualsWholeText) {
  BPEBENCH_REQUIRE_CORPORA("udhr59", "lua");
  std::mt19937_64 rng(7);
  const std::vector<std::string> texts = {
      test::CorpusSlice("udhr59", 60'000) + test::CorpusSlice("lua", 30'000),
      std::string(70'000, 'x') + " tail\n" + std::string(5000, ' ') + "end",  // no boundary for 70 KB
      test::RandomBytes(rng, 30'000),
  };
  for (const auto& pre : PreTokenizers()) {
    for (const std::string& text : texts) {
      const WordCounts whole = CountWords(text, pre.get(), 1);
      for (size_t block : {61, 4096, 65'536}) {
        // Threads count each cut block in parallel: tried on the blocks large enough to be split.
        for (int threads : block < 65'536 ? std::vector<int>{1} : std::vector<int>{1, 3}) {
          WordCounter counter(pre.get(), threads);
          for (size_t i = 0; i < text.size(); i += block) counter.Add(std::string_view(text).substr(i, block));
          EXPECT_EQ(counter.bytes_seen(), text.size());
          ASSERT_EQ(counter.Finish(), whole) << pre.name << ", blocks of " << block << ", " << threads << " threads";
        }
      }
    }
  }
}

// encode's streaming: blocks cut at their last safe boundary give the ids of the whole text, for
// blocks smaller than a piece too (the run of 'x' has no boundary for 70 KB).
TEST(StreamEncoding, StreamedInBlocksEqualsWholeText) {
  BPEBENCH_REQUIRE_CORPORA("udhr59", "lua");
  const std::string text = test::CorpusSlice("udhr59", 60'000) + test::CorpusSlice("lua", 30'000) +
                           std::string(70'000, 'x') + " tail\n" + std::string(5000, ' ') + "end";
  for (const char* name : {"gpt2", "o200k", "none"}) {
    const PreTokenizer& pre = FindPreTokenizer(name).get();
    TrainOptions options;
    options.vocab_size = 600;
    const Vocabulary vocab(FindTrainer("linked").make()->Train(CountWords(text, pre), options).merges);
    const std::vector<TokenId> whole = EncodeText(text, pre, FindEncoder("cached").make, vocab, 1);
    for (size_t block : {61, 65'536}) {
      std::vector<TokenId> got;
      StreamEncoder stream(pre, FindEncoder("cached").make, vocab, 2,
                           [&](const std::vector<TokenId>& ids) { got.insert(got.end(), ids.begin(), ids.end()); });
      for (size_t i = 0; i < text.size(); i += block) stream.Add(std::string_view(text).substr(i, block));
      stream.Finish();
      ASSERT_EQ(got, whole) << name << ", blocks of " << block;
    }
  }
}

TEST(Unicode, DecodeIsStrict) {
  uint32_t len = 0;
  EXPECT_EQ(unicode::FirstInvalidUtf8("plain ascii"), 11u);
  EXPECT_EQ(unicode::FirstInvalidUtf8("ok \xC3\xA9 \xF0\x9F\x98\x80"), 10u);
  EXPECT_EQ(unicode::FirstInvalidUtf8("ab\xC0\xAF"), 2u);          // overlong '/'
  EXPECT_EQ(unicode::FirstInvalidUtf8("ab\xED\xA0\x80"), 2u);      // surrogate U+D800
  EXPECT_EQ(unicode::FirstInvalidUtf8("ab\xF4\x90\x80\x80"), 2u);  // above U+10FFFF
  EXPECT_EQ(unicode::FirstInvalidUtf8("ab\xE4\xB8"), 2u);          // truncated
  EXPECT_EQ(unicode::ClassAt("\xE4\xB8\x89", 0, &len), unicode::kLetter);
  EXPECT_EQ(len, 3u);
  EXPECT_EQ(unicode::ClassOf(0x0663), unicode::kNumber);  // ARABIC-INDIC DIGIT THREE
  EXPECT_EQ(unicode::ClassOf(0x3000), unicode::kSpace);
  EXPECT_EQ(unicode::ClassOf(0x1F600), unicode::kOther);  // emoji
}

// FirstInvalidUtf8 skips ASCII 16 bytes at a time: the first bad byte is found at every offset, in
// runs of ASCII of every length before it, with valid multi-byte characters on either side.
TEST(Unicode, FirstInvalidUtf8AtEveryOffset) {
  for (size_t at = 0; at < 70; ++at) {
    for (const char* bad : {"\xFF", "\x80", "\xC3", "\xE4\xB8", "\xED\xA0\x80"}) {
      std::string text(at, 'a');
      if (at >= 20) text.replace(at - 20, 3, "\xE4\xB8\x89");
      text += bad;
      text += std::string(40, 'b') + "\xC3\xA9";
      EXPECT_EQ(unicode::FirstInvalidUtf8(text), at) << at;
      text.resize(at);
      EXPECT_EQ(unicode::FirstInvalidUtf8(text + std::string(33, 'c')), at + 33) << at;
    }
  }
}

// The block scanners take every code point of these lead bytes as a letter of category Lo without
// looking it up (block_scan.h): that must stay true of the tables (a new Unicode version, say).
TEST(Unicode, LeadBytesTheBlockScannersTakeWholeAreLettersLo) {
  auto check = [](uint32_t lo, uint32_t hi) {
    for (uint32_t cp = lo; cp <= hi; ++cp) {
      ASSERT_EQ(unicode::ClassOf(cp), unicode::kLetter) << fmt::format("U+{:04X}", cp);
      ASSERT_EQ(unicode::CategoryOf(cp), unicode::kCatLo) << fmt::format("U+{:04X}", cp);
    }
  };
  check(0x4E00, 0x9FFF);  // E4 B8..BF, E5..E9
  check(0xB000, 0xCFFF);  // EB, EC
  EXPECT_NE(unicode::CategoryOf(0x4DC0), unicode::kCatLo);  // E4 B7 80, just outside: a symbol
}

}  // namespace
}  // namespace bpe

// Synthetic web-like text (corpora/synthetic.h, bpebench corpus --synthetic): the same bytes for the
// same options on any thread count, the requested length, Zipf's law in its word frequencies,
// distinct words that keep growing with the size (unlike a corpus joined to itself), the default
// corpus's letters, the scripts asked for, and clear errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "algorithms/core/error.h"
#include "algorithms/pretokenizers/unicode.h"
#include "corpora/corpus.h"
#include "corpora/synthetic.h"
#include "tests/test_util.h"

namespace bpe {
namespace {

SyntheticOptions Options(uint64_t bytes, int threads = 1, uint64_t seed = 1) {
  SyntheticOptions o;
  o.bytes = bytes;
  o.threads = threads;
  o.seed = seed;
  return o;
}

// The words of text: runs of bytes that are not space, newline or punctuation, lowercased (ASCII).
std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  std::string w;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == ',' || c == '.') {
      if (!w.empty()) words.push_back(std::move(w));
      w.clear();
    } else {
      w += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
  }
  if (!w.empty()) words.push_back(w);
  return words;
}

TEST(Synthetic, TheSameOptionsGiveTheSameBytesOnAnyThreadCount) {
  const std::string one = SyntheticText(Options(2'500'000, 1));  // three blocks of about 1 MiB
  EXPECT_EQ(one.size(), 2'500'000u);  // Latin letters only: exactly the length asked for
  EXPECT_EQ(SyntheticText(Options(2'500'000, 2)), one);
  EXPECT_EQ(SyntheticText(Options(2'500'000, 3)), one);
  EXPECT_EQ(SyntheticText(Options(1'000'000, 2)), one.substr(0, 1'000'000)) << "a shorter text is a prefix";
  EXPECT_NE(SyntheticText(Options(1'000'000, 1, 2)), one.substr(0, 1'000'000)) << "another seed, another text";
  EXPECT_EQ(SyntheticText(Options(1, 1)).size(), 1u);
}

TEST(Synthetic, LinesOfWordsWithPunctuationAndNothingElse) {
  const std::string text = SyntheticText(Options(1'000'000, 2));
  size_t line = 0, longest = 0;
  for (char c : text) {
    ASSERT_TRUE((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ' ' || c == '\n' || c == ',' || c == '.')
        << static_cast<int>(c);
    line = c == '\n' ? 0 : line + 1;
    longest = std::max(longest, line);
  }
  EXPECT_LE(longest, 71u + 26u);  // 71 but for a line that is one long word
  const std::vector<std::string> words = Words(text);
  double letters = 0;
  for (const auto& w : words) letters += static_cast<double>(w.size());
  EXPECT_GT(letters / static_cast<double>(words.size()), 2.5);
  EXPECT_LT(letters / static_cast<double>(words.size()), 9.0);
}

TEST(Synthetic, WordFrequenciesFollowZipfsLaw) {
  std::unordered_map<std::string, uint64_t> freq;
  for (auto& w : Words(SyntheticText(Options(4'000'000, 2)))) ++freq[w];
  std::vector<uint64_t> counts;
  for (const auto& [w, c] : freq) counts.push_back(c);
  std::sort(counts.rbegin(), counts.rend());
  ASSERT_GT(counts.size(), 2000u);
  // The slope of log frequency against log rank between ranks 10 and 1000: -zipf (1.07), loosened
  // by the words that two types happen to spell alike.
  const double slope = (std::log(static_cast<double>(counts[999])) - std::log(static_cast<double>(counts[9]))) /
                       (std::log(1000.0) - std::log(10.0));
  EXPECT_GT(slope, -1.3) << slope;
  EXPECT_LT(slope, -0.85) << slope;
}

TEST(Synthetic, DistinctWordsKeepGrowingWithTheSizeUnlikeARepeatedCorpus) {
  const std::string text = SyntheticText(Options(4'000'000, 2));
  auto distinct = [](std::string_view t) {
    std::unordered_set<std::string> set;
    for (auto& w : Words(t)) set.insert(std::move(w));
    return static_cast<double>(set.size());
  };
  const double small = distinct(std::string_view(text).substr(0, 1'000'000)), large = distinct(text);
  // Heaps' law: four times the text, well over twice the distinct words (a corpus joined to itself
  // four times has the same distinct words as one copy).
  EXPECT_GT(large / small, 2.4) << small << " " << large;
  EXPECT_LT(large / small, 4.0) << small << " " << large;
}

TEST(Synthetic, LettersFollowTheDefaultCorpus) {
  // The most frequent word-initial letter and letter pair of gutenberg5 lead here too.
  auto tops = [](std::string_view text) {
    std::map<char, uint64_t> initial;
    std::map<std::string, uint64_t> pairs;
    for (const auto& w : Words(text)) {
      if (w.empty() || w[0] < 'a' || w[0] > 'z') continue;
      ++initial[w[0]];
      for (size_t i = 0; i + 1 < w.size(); ++i) ++pairs[w.substr(i, 2)];
    }
    auto top = [](const auto& m) { return std::max_element(m.begin(), m.end(), [](auto& a, auto& b) { return a.second < b.second; })->first; };
    return std::make_pair(top(initial), top(pairs));
  };
  const auto corpus = tops(LoadCorpusText(kDefaultCorpus));
  const auto synthetic = tops(SyntheticText(Options(1'000'000, 2)));
  EXPECT_EQ(synthetic.first, corpus.first);
  EXPECT_EQ(synthetic.second, corpus.second);
}

TEST(Synthetic, SeveralScriptsAreValidUtf8WithEachScriptPresent) {
  SyntheticOptions o = Options(1'000'003, 2);
  o.scripts = {"latin", "cyrillic", "greek"};
  const std::string text = SyntheticText(o);
  EXPECT_LE(text.size(), 1'000'003u);
  EXPECT_GE(text.size(), 1'000'000u);
  EXPECT_EQ(unicode::FirstInvalidUtf8(text), text.size());
  EXPECT_NE(text.find("\xD0"), std::string::npos) << "Cyrillic";
  EXPECT_NE(text.find("\xCE"), std::string::npos) << "Greek";
  EXPECT_NE(text.find(" t"), std::string::npos) << "Latin";
}

TEST(Synthetic, BadOptionsAreErrorsThatSayWhich) {
  auto error = [](SyntheticOptions o) {
    try {
      SyntheticText(o);
    } catch (const Error& e) {
      return e.message();
    }
    return std::string("no error");
  };
  SyntheticOptions o = Options(1000);
  o.types = 0;
  EXPECT_NE(error(o).find("--types 0 is out of range"), std::string::npos) << error(o);
  o = Options(1000);
  o.zipf = 1.0;
  EXPECT_NE(error(o).find("--zipf 1 is out of range"), std::string::npos) << error(o);
  o = Options(1000);
  o.scripts = {"latin", "klingon"};
  EXPECT_NE(error(o).find("unknown script 'klingon'"), std::string::npos) << error(o);
  o = Options(1000);
  o.types = 3;  // fewer types than the head table: still a text, of three words
  const std::string text = SyntheticText(o);
  std::unordered_set<std::string> distinct;
  for (auto& w : Words(text)) distinct.insert(w);
  EXPECT_LE(distinct.size(), 3u);
}

TEST(Synthetic, TheCliWritesTheSameTextAndRefusesBadSizes) {
  const test::CliResult r = test::Cli("corpus --synthetic --bytes 300K --seed 7 --threads 2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, SyntheticText(Options(300'000, 1, 7)));
  EXPECT_NE(r.err.find("wrote 300000 bytes of synthetic text (seed 7"), std::string::npos) << r.err;
  test::ExpectCliError(test::Cli("corpus --synthetic --bytes 0"), "--bytes '0' is not a size");
  test::ExpectCliError(test::Cli("corpus --synthetic --bytes 12X"), "--bytes '12X' is not a size");
  test::ExpectCliError(test::Cli("corpus --synthetic --bytes 99999999T"), "is not a size");
  test::ExpectCliError(test::Cli("corpus --synthetic"), "--bytes");
  test::ExpectCliError(test::Cli("corpus gutenberg5 --bytes 10"), "--bytes is an option of corpus --synthetic");
  test::ExpectCliError(test::Cli("corpus --synthetic --bytes 10 --zipf abc"), "--zipf 'abc' is not a number");
  test::ExpectCliError(test::Cli("corpus --synthetic --bytes 10 --scripts latin,"), "unknown script ''");
}

}  // namespace
}  // namespace bpe

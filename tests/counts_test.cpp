// Count tables (bpebench count, train --counts): exact round trips of any piece, sums that equal
// counting the joined text, byte-identical models, and clear errors for damaged tables.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <span>
#include <vector>

#include "algorithms/core/error.h"
#include "algorithms/formats/counts.h"
#include "algorithms/registry.h"
#include "algorithms/runtime/file_io.h"
#include "algorithms/runtime/text.h"
#include "tests/test_util.h"

namespace bpe {
namespace {

using test::Cli;
using test::WriteTemp;

TEST(Counts, AnyPieceRoundTripsAndLinesAreSortedByBytes) {
  const WordCounts counts = {{"zebra", 3},
                             {"tab\there", 1},
                             {"new\nline\r\n", 2},
                             {"back\\slash \\x41", 4},
                             {"\xff\xfe not utf-8 \xc3", 5},
                             {"caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac", 6},
                             {std::string("nul\0byte\x7f\x01", 10), 7},
                             {" ", UINT64_MAX}};
  const std::string table = SerializeCounts(counts, "cl100k");
  EXPECT_TRUE(table.starts_with("# bpebench counts 1 pretokenizer=cl100k pieces=8\n")) << table;
  EXPECT_NE(table.find("caf\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac\t6\n"), std::string::npos) << "valid UTF-8 stays readable";
  EXPECT_NE(table.find("\\xFF\\xFE not utf-8 \\xC3\t5\n"), std::string::npos) << table;
  EXPECT_NE(table.find("tab\\there\t1\n"), std::string::npos);
  EXPECT_NE(table.find("back\\\\slash \\\\x41\t4\n"), std::string::npos);
  EXPECT_NE(table.find("nul\\x00byte\\x7F\\x01\t7\n"), std::string::npos);
  const CountTable parsed = ParseCounts(table, "t.tsv");
  EXPECT_EQ(parsed.pretokenizer, "cl100k");
  WordCounts sorted = counts;
  std::sort(sorted.begin(), sorted.end(), [](const WordCount& a, const WordCount& b) { return a.word < b.word; });
  EXPECT_EQ(parsed.counts, sorted);
}

TEST(Counts, SummedTablesEqualTheCountsOfTheJoinedText) {
  const std::string text = test::CorpusSlice("gutenberg5", 300'000);
  const PreTokenizer& pre = FindPreTokenizer("gpt2").get();
  const size_t cut = pre.SafeBoundary(text, text.size() / 3);
  const WordCounts a = CountWords(std::string_view(text).substr(0, cut), pre);
  const WordCounts b = CountWords(std::string_view(text).substr(cut), pre);
  const CountTable ta = ParseCounts(SerializeCounts(a, "gpt2"), "a"), tb = ParseCounts(SerializeCounts(b, "gpt2"), "b");
  EXPECT_EQ(SumCounts({&ta.counts, &tb.counts}), CountWords(text, pre));
  // Summing a table with itself doubles it.
  const WordCounts twice = SumCounts({&ta.counts, &ta.counts});
  ASSERT_EQ(twice.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(twice[i].count, 2 * ta.counts[i].count);
  const WordCounts big = {{"x", UINT64_MAX - 1}}, one = {{"x", 2}};
  try {
    SumCounts({&big, &one});
    FAIL() << "no overflow error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("passes 2^64"), std::string::npos) << e.message();
  }
}

// WordCounter::AddDocuments (the Python module's iterables): each document is a text of its own, so
// the counts are the sum of each document's counts; text streamed before and after them is cut
// where the documents start and resumes after.
TEST(Counts, DocumentsAreCountedEachAsAWholeText) {
  const std::string text = test::CorpusSlice("gutenberg5", 200'000);
  std::vector<std::string> docs;
  for (size_t at = 1000, n = 1; at + n < text.size() && docs.size() < 150; at += n + 7, n = n * 3 % 2000 + 1) {
    docs.push_back(text.substr(at, n));  // cut anywhere: inside words, after spaces, at newlines
  }
  docs.insert(docs.begin() + 5, "");
  docs.push_back("  \n\n  x");
  const std::string before = text.substr(0, 999) + "\n\n", after = "\n\n  " + text.substr(500, 3000);
  for (const PreTokenizerInfo& info : PreTokenizers()) {
    const PreTokenizer& pre = info.get();
    std::vector<WordCounts> parts = {CountWords(before, pre), CountWords(after, pre)};
    for (const std::string& d : docs) parts.push_back(CountWords(d, pre));
    std::vector<const WordCounts*> views;
    for (const WordCounts& p : parts) views.push_back(&p);
    const WordCounts expected = SumCounts(views);
    for (int threads : {1, 3}) {
      WordCounter counter(pre, threads);
      counter.Add(before.substr(0, 400));
      counter.Add(before.substr(400));
      std::vector<std::string_view> views_of_docs(docs.begin(), docs.end());
      counter.AddDocuments(std::span(views_of_docs).first(70));
      counter.AddDocuments(std::span(views_of_docs).subspan(70));
      counter.Add(after);
      uint64_t bytes = before.size() + after.size();
      for (const std::string& d : docs) bytes += d.size();
      EXPECT_EQ(counter.bytes_seen(), bytes) << info.name;
      EXPECT_EQ(counter.Finish(), expected) << info.name << ", threads " << threads;
    }
  }
}

// The counting table holds a piece of up to 15 bytes in its key and a longer one by reference
// (runtime/piece_table.h), and loads 16 bytes at once where the text allows: pieces of every length
// around those limits, with NUL and 0xFF bytes, at the very end of the text and of its chunks,
// counted on 1-3 threads and streamed in blocks of odd sizes, equal a map of the pre-tokenizer's
// pieces, sorted or (Finish(false)) not.
TEST(Counts, CountingEqualsAMapOfThePiecesAtEveryLength) {
  std::mt19937 rng(11);
  std::string text;
  for (int i = 0; i < 6000; ++i) {
    const size_t n = rng() % 5 == 0 ? 1 + rng() % 40 : 1 + rng() % 18;
    for (size_t k = 0; k < n; ++k) {
      const uint32_t r = rng() % 8;
      text += r == 0 ? '\0' : r == 1 ? '\xff' : static_cast<char>('a' + rng() % 3);  // few letters: repeats
    }
    text += rng() % 7 == 0 ? '\n' : ' ';
  }
  text += std::string(15, 'q') + ' ' + std::string(16, 'q') + ' ' + std::string(17, 'q') + ' ' + std::string(15, '\0');
  for (const char* name : {"whitespace", "none"}) {
    const PreTokenizer& pre = FindPreTokenizer(name).get();
    std::map<std::string, uint64_t> expected_map;
    pre.ForEachPiece(text, [&](std::string_view piece) { ++expected_map[std::string(piece)]; });
    WordCounts expected;
    for (const auto& [piece, count] : expected_map) expected.push_back({piece, count});
    for (int threads : {1, 2, 3}) {
      SCOPED_TRACE(std::string(name) + ", threads " + std::to_string(threads));
      EXPECT_EQ(CountWords(text, pre, threads), expected);
      WordCounter counter(pre, threads);
      for (size_t at = 0, n = 1; at < text.size(); at += n, n = n * 7 % 5003 + 1) counter.Add(std::string_view(text).substr(at, n));
      EXPECT_GT(counter.table_bytes(), expected.size() * 24);
      EXPECT_EQ(counter.Finish(), expected);
      // Unsorted (for a trainer): the same pieces and counts, in the tables' order.
      WordCounter unsorted(pre, threads);
      unsorted.Add(text);
      WordCounts any_order = unsorted.Finish(false);
      std::sort(any_order.begin(), any_order.end(), [](const WordCount& a, const WordCount& b) { return a.word < b.word; });
      EXPECT_EQ(any_order, expected);
    }
  }
}

TEST(Counts, DamagedTablesAreErrorsThatNameTheLine) {
  const std::string good = SerializeCounts({{"a", 1}, {"b", 2}}, "gpt2");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"hello\t1\n", "not a bpebench count table"},
      {"# bpebench counts 1 pieces=1\na\t1\n", "line 1: the header names no pretokenizer="},
      {good.substr(0, good.size() - 1), "line 3: the last line has no newline"},
      {good.substr(0, good.find("b\t")), "the header says 2 pieces and the table has 1"},
      {"# bpebench counts 1 pretokenizer=gpt2\na 1\n", "line 2: no tab"},
      {"# bpebench counts 1 pretokenizer=gpt2\na\\q\t1\n", "line 2: unknown escape \\q"},
      {"# bpebench counts 1 pretokenizer=gpt2\na\\x4\t1\n", "line 2: \\x must be followed by two hex digits"},
      {"# bpebench counts 1 pretokenizer=gpt2\na\\\t1\n", "line 2: a piece ends with a lone backslash"},
      {"# bpebench counts 1 pretokenizer=gpt2\n\t1\n", "line 2: an empty piece"},
      {"# bpebench counts 1 pretokenizer=gpt2\na\t0\n", "count '0' is not a whole number"},
      {"# bpebench counts 1 pretokenizer=gpt2\na\t18446744073709551616\n", "is not a whole number"},
      {"# bpebench counts 1 pretokenizer=gpt2\na\t-3\n", "is not a whole number"},
      {"# bpebench counts 1 pretokenizer=gpt2\na\t12abc\n", "is not a whole number"},
  };
  for (const auto& [table, needle] : cases) {
    try {
      ParseCounts(table, "t.tsv");
      ADD_FAILURE() << "accepted: " << table;
    } catch (const Error& e) {
      EXPECT_NE(e.message().find(needle), std::string::npos) << e.message() << "\nwanted: " << needle;
      EXPECT_TRUE(e.message().starts_with("t.tsv: ")) << e.message();
    }
  }
}

TEST(Counts, TrainingOnShardTablesWritesTheModelOfTheText) {
  const std::string text = test::CorpusSlice("gutenberg5", 400'000);
  const PreTokenizer& pre = FindPreTokenizer("gpt2").get();
  const size_t c1 = pre.SafeBoundary(text, text.size() / 3), c2 = pre.SafeBoundary(text, 2 * text.size() / 3);
  const std::string dir = test::TempDir();
  std::vector<std::string> shards, tables;
  for (auto [from, to] : {std::pair<size_t, size_t>{0, c1}, {c1, c2}, {c2, text.size()}}) {
    shards.push_back(WriteTemp("shard" + std::to_string(shards.size()) + ".txt", text.substr(from, to - from)));
    tables.push_back(dir + "/shard" + std::to_string(tables.size()) + ".tsv");
    const test::CliResult r = Cli("count --threads 2 --output " + tables.back() + " " + shards.back());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("distinct pieces"), std::string::npos) << r.err;
  }
  const test::CliResult whole = Cli("train --vocab-size 2000 --output " + dir + "/whole.model " + shards[0] + " " + shards[1] + " " + shards[2]);
  ASSERT_EQ(whole.status, 0) << whole.err;
  const test::CliResult summed = Cli("train --counts --vocab-size 2000 --output " + dir + "/summed.model " + tables[0] + " " + tables[1] + " " + tables[2]);
  ASSERT_EQ(summed.status, 0) << summed.err;
  EXPECT_NE(summed.err.find("of count tables"), std::string::npos) << summed.err;
  EXPECT_EQ(ReadFile(dir + "/summed.model"), ReadFile(dir + "/whole.model"));
  // The pre-tokenizer comes from the tables.
  const std::string cl = dir + "/cl.tsv";
  ASSERT_EQ(Cli("count --pretokenizer cl100k --output " + cl + " " + shards[0]).status, 0);
  ASSERT_EQ(Cli("train --counts --vocab-size 500 --output " + dir + "/cl.model " + cl).status, 0);
  EXPECT_NE(ReadFile(dir + "/cl.model").find("pretokenizer cl100k"), std::string::npos);
  test::ExpectCliError(Cli("train --counts --vocab-size 500 --output " + dir + "/x.model " + cl + " " + tables[0]),
                       "was counted with the gpt2 pre-tokenizer and");
  test::ExpectCliError(Cli("train --counts --pretokenizer gpt2 --vocab-size 500 --output " + dir + "/x.model " + cl),
                       "--pretokenizer gpt2 contradicts the tables, which were counted with cl100k");
  test::ExpectCliError(Cli("train --counts --vocab-size 500 --output " + dir + "/x.model " + shards[0]),
                       "not a bpebench count table");
  test::ExpectCliError(Cli("train --counts --vocab-size 500 --output " + dir + "/x.model"), "--counts needs count table FILEs");
  test::ExpectCliError(Cli("count --output " + dir + "/e.tsv " + WriteTemp("empty.txt", "")), "the input is empty: nothing to count");
  test::ExpectCliError(Cli("count --output " + shards[0] + " " + shards[0]), "is the input file");
  EXPECT_FALSE(std::filesystem::exists(dir + "/x.model"));
}

}  // namespace
}  // namespace bpe

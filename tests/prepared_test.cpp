// The prepared-model cache (formats/prepared.h): a hit gives the same vocabulary, tables and ids as
// deriving them; a changed source file, a damaged file and a file whose indices do not fit are each
// rebuilt, never trusted; two processes building it at once both succeed; a folder that cannot be
// written is a note, never an error; a FIFO planted at the cache file's path neither hangs nor is
// written to.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "algorithms/core/error.h"
#include "algorithms/core/vocabulary.h"
#include "algorithms/formats/prepared.h"
#include "algorithms/formats/tiktoken.h"
#include "algorithms/registry.h"
#include "algorithms/runtime/file_io.h"
#include "algorithms/runtime/hash.h"
#include "algorithms/runtime/text.h"
#include "tests/test_util.h"

namespace bpe {
namespace {

namespace fs = std::filesystem;
using test::Cli;
using test::ShellQuote;
using test::TempDir;
using test::WriteTemp;

// Text of several scripts, code and numbers: every path of the search, not only whole tokens.
const std::string kText =
    "The quick brown fox's 12345 jumps; naïve café — Ελληνικά, русский, 中文字符串 and 日本語のテキスト.\n"
    "    def f(x):\n        return x ** 2  # comment\r\n\t\tindented\u00a0nbsp aaaaaaaaaaaaaaaaaaaaa "
    "abababababab 😀😀 supercalifragilisticexpialidocious\n";

#define REQUIRE_GPT2()                                                                                     \
  do {                                                                                                     \
    if (FindTiktokenFile("gpt2").empty()) BPEBENCH_MISSING("no gpt2 rank file in the search path (scripts/setup)"); \
  } while (0)

std::string FreshDir(const std::string& name) {
  const std::string dir = TempDir() + "/" + name;
  fs::remove_all(dir);
  return dir;
}

std::vector<TokenId> Encode(const PreparedModel& p, std::string_view text) {
  return EncodeText(text, FindPreTokenizer(p.pretokenizer).get(), FindEncoder("cached").make, *p.vocab);
}

// gpt2's rank file copied to the test's folder (a file of our own, which the tests may change).
std::string Gpt2Copy(const std::string& name) {
  const std::string source = FindTiktokenFile("gpt2");
  if (source.empty()) return "";
  const std::string copy = TempDir() + "/" + name + ".json";
  fs::copy_file(source, copy, fs::copy_options::overwrite_existing);
  return copy;
}

std::vector<fs::path> CacheFiles(const std::string& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  return files;
}

TEST(Prepared, HitMatchesTheDerivedTablesAndIds) {
  REQUIRE_GPT2();
  const std::string dir = FreshDir("cache-hit");
  const Model direct = LoadAnyModel("gpt2");
  const Vocabulary direct_vocab(direct.merges);
  const std::vector<TokenId> want = EncodeText(kText, FindPreTokenizer(direct.pretokenizer).get(),
                                               FindEncoder("backtrack").make, direct_vocab);

  const PreparedModel built = LoadPreparedModel("gpt2", "", dir);
  EXPECT_EQ(built.cache, PreparedModel::Cache::kBuilt) << built.note;
  EXPECT_EQ(built.note, "");
  const PreparedModel hit = LoadPreparedModel("gpt2", "", dir);
  ASSERT_EQ(hit.cache, PreparedModel::Cache::kHit) << hit.note;
  EXPECT_EQ(hit.cache_file, built.cache_file);
  EXPECT_EQ(hit.pretokenizer, direct.pretokenizer);
  ASSERT_TRUE(std::equal(hit.vocab->merges().begin(), hit.vocab->merges().end(), direct.merges.begin(),
                         direct.merges.end()));
  EXPECT_TRUE(std::equal(hit.external_ids.begin(), hit.external_ids.end(), direct.external_ids.begin(),
                         direct.external_ids.end()));
  EXPECT_EQ(hit.vocab->held_max_length(), direct_vocab.held_max_length());
  for (TokenId t = 0; t < direct_vocab.size(); t += 97) {
    EXPECT_EQ(hit.vocab->TokenBytes(t), direct_vocab.TokenBytes(t)) << t;
    if (t >= kByteAlphabet) {
      EXPECT_EQ(hit.vocab->Rank(direct.merges[t - kByteAlphabet]), t - kByteAlphabet);
    }
  }
  EXPECT_EQ(hit.vocab->Rank(Pair{'q', 'z'}), direct_vocab.Rank(Pair{'q', 'z'}));
  EXPECT_EQ(Encode(built, kText), want);
  EXPECT_EQ(Encode(hit, kText), want);
  // And the tables of the hit, not derived again, are what the encoders use: the whole corpus agrees.
  const std::string text = test::CorpusSlice("gutenberg5", 400000);
  EXPECT_EQ(Encode(hit, text), EncodeText(text, FindPreTokenizer(direct.pretokenizer).get(),
                                          FindEncoder("backtrack").make, direct_vocab));
  // No cache folder: nothing read or written.
  EXPECT_EQ(LoadPreparedModel("gpt2", "", "").cache, PreparedModel::Cache::kOff);
}

TEST(Prepared, AChangedSourceIsAnotherKey) {
  REQUIRE_GPT2();
  const std::string dir = FreshDir("cache-changed");
  const std::string model = Gpt2Copy("changed");
  EXPECT_EQ(LoadPreparedModel(model, "", dir).cache, PreparedModel::Cache::kBuilt);
  EXPECT_EQ(LoadPreparedModel(model, "", dir).cache, PreparedModel::Cache::kHit);
  // Rewritten with the same bytes and size: its change time moves, so it is rebuilt.
  const std::string bytes = ReadFile(model);
  std::ofstream(model, std::ios::binary | std::ios::trunc) << bytes;
  struct stat st;
  ASSERT_EQ(::stat(model.c_str(), &st), 0);
  const PreparedModel again = LoadPreparedModel(model, "", dir);
  EXPECT_EQ(again.cache, PreparedModel::Cache::kBuilt);
  EXPECT_EQ(CacheFiles(dir).size(), 2u);
  // Another pattern asked for is another key too (and gpt2's own pattern is the only one accepted).
  EXPECT_THROW(LoadPreparedModel(model, "cl100k", dir), Error);
}

// Flips one byte of the file at `offset` from its end (or truncates it), then loads.
PreparedModel Damage(const std::string& dir, const std::function<void(std::string&)>& change) {
  const PreparedModel first = LoadPreparedModel("gpt2", "", dir);
  std::string bytes = ReadFile(first.cache_file);
  change(bytes);
  std::ofstream(first.cache_file, std::ios::binary | std::ios::trunc) << bytes;
  return LoadPreparedModel("gpt2", "", dir);
}

TEST(Prepared, DamagedFilesAreRebuilt) {
  REQUIRE_GPT2();
  const std::string dir = FreshDir("cache-damaged");
  const std::vector<TokenId> want = Encode(LoadPreparedModel("gpt2", "", dir), kText);
  const std::vector<std::pair<std::string, std::function<void(std::string&)>>> damages = {
      {"a flipped byte", [](std::string& b) { b[b.size() / 2] ^= 0x40; }},
      {"truncated", [](std::string& b) { b.resize(b.size() - 1000); }},
      {"header only", [](std::string& b) { b.resize(48); }},
      {"empty", [](std::string& b) { b.clear(); }},
      {"another version", [](std::string& b) { b[8] ^= 1; }},
  };
  for (const auto& [what, change] : damages) {
    const PreparedModel p = Damage(dir, change);
    EXPECT_EQ(p.cache, PreparedModel::Cache::kBuilt) << what;
    if (what != "empty") {  // an empty file is not mapped: simply absent
      EXPECT_NE(p.note.find("damaged"), std::string::npos) << what << ": " << p.note;
    }
    EXPECT_EQ(Encode(p, kText), want) << what;
    EXPECT_EQ(LoadPreparedModel("gpt2", "", dir).cache, PreparedModel::Cache::kHit) << what;
  }
}

TEST(Prepared, IndicesThatDoNotFitAreRefusedEvenWithAValidChecksum) {
  REQUIRE_GPT2();
  const std::string dir = FreshDir("cache-crafted");
  const std::vector<TokenId> want = Encode(LoadPreparedModel("gpt2", "", dir), kText);
  // A run of 0xFF bytes written into the payload, with the checksum made to match: with gpt2 these
  // places are in the merges, the token lengths, the rank table, the trie and the whole-token table
  // (an id, a length or a trie base far out of range; the pair filter and the token bytes, which
  // hold no index, are left alone).
  for (double where : {0.05, 0.1, 0.3, 0.6, 0.7}) {
    const PreparedModel p = Damage(dir, [where](std::string& b) {
      const size_t at = 48 + static_cast<size_t>(where * static_cast<double>(b.size() - 64));
      std::memset(b.data() + (at & ~size_t{7}), 0xFF, 16);
      const uint64_t hash = Hash64(std::string_view(b).substr(48));
      std::memcpy(b.data() + 40, &hash, 8);
    });
    EXPECT_EQ(p.cache, PreparedModel::Cache::kBuilt) << where;
    EXPECT_NE(p.note.find("damaged"), std::string::npos) << where;
    EXPECT_EQ(Encode(p, kText), want) << where;
  }
}

TEST(Prepared, CliBuildersAtOnceAndFoldersThatCannotBeWritten) {
  REQUIRE_GPT2();
  const std::string dir = FreshDir("cache-concurrent");
  const std::string text = WriteTemp("prepared.txt", kText);
  const std::string want = Cli("encode --model gpt2 " + text, "BPEBENCH_CACHE=off ").out;
  ASSERT_NE(want, "");
  // Four processes build the same cache file at once: all succeed with the same ids, one complete
  // file is left, no temporary file.
  std::string cmd;
  for (int i = 0; i < 4; ++i) {
    cmd += fmt::format("BPEBENCH_CACHE={} {} encode --model gpt2 {} > {}/out{} 2>&1 & ", ShellQuote(dir),
                       BPEBENCH_CLI, ShellQuote(text), TempDir(), i);
  }
  ASSERT_EQ(std::system(("(" + cmd + "wait)").c_str()), 0);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(ReadFile(fmt::format("{}/out{}", TempDir(), i)), want) << i;
  ASSERT_EQ(CacheFiles(dir).size(), 1u);
  EXPECT_EQ(CacheFiles(dir)[0].extension(), ".prepared");
  EXPECT_EQ(LoadPreparedModel("gpt2", "", dir).cache, PreparedModel::Cache::kHit);

  // A cache folder under a regular file: encoded all the same, with one note.
  const std::string blocked = WriteTemp("not-a-folder", "x") + "/cache";
  const test::CliResult r = Cli("encode --model gpt2 " + text, "BPEBENCH_CACHE=" + ShellQuote(blocked) + " ");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, want);
  EXPECT_NE(r.err.find("note: the prepared-model cache was not written"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  // A FIFO where the cache file goes: not opened for reading as a cache (no hang), replaced by the
  // rebuilt file (never written to).
  const std::string fifo_dir = FreshDir("cache-fifo");
  const std::string file = LoadPreparedModel("gpt2", "", fifo_dir).cache_file;
  fs::remove(file);
  ASSERT_EQ(::mkfifo(file.c_str(), 0600), 0);
  const PreparedModel p = LoadPreparedModel("gpt2", "", fifo_dir);
  EXPECT_EQ(p.cache, PreparedModel::Cache::kBuilt) << p.note;
  EXPECT_TRUE(fs::is_regular_file(file));
}

}  // namespace
}  // namespace bpe

// tiktoken vocabularies: rank files parse (or fail clearly), the derived merge list rebuilds every
// token, and our encoders with that merge list give tiktoken's ids, checked here against an
// implementation of tiktoken's own procedure (merge the adjacent pair whose concatenation has the
// lowest rank; a piece that is itself a token is that token). tests/peers_test.py checks the same
// against tiktoken itself (npm, run by Node) on every shared corpus.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <stdexcept>

#include <boost/unordered/unordered_flat_map.hpp>

#include "algorithms/core/error.h"
#include "algorithms/formats/model_file.h"
#include "algorithms/formats/tiktoken.h"
#include "algorithms/runtime/file_io.h"
#include "algorithms/core/vocabulary.h"
#include "tests/test_util.h"

namespace bpe {
namespace {

using test::Base64;

// A .tiktoken file: the 256 bytes in reverse order (so ranks are not byte values), then `extra`.
std::string RankFile(const std::vector<std::string>& extra) {
  std::string out;
  uint32_t rank = 0;
  for (int b = 255; b >= 0; --b) out += Base64(std::string(1, static_cast<char>(b))) + " " + std::to_string(rank++) + "\n";
  for (const auto& t : extra) out += Base64(t) + " " + std::to_string(rank++) + "\n";
  return out;
}

std::string ErrorOf(const std::string& file) {
  try {
    ParseTiktokenRanks(file, "t.tiktoken", "gpt2");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Tiktoken, RanksBecomeMergesAndExternalIds) {
  const Model m = ParseTiktokenRanks(RankFile({"ab", "bc", "abc", "abcab"}), "t.tiktoken", "gpt2");
  EXPECT_EQ(m.pretokenizer, "gpt2");
  ASSERT_EQ(m.merges.size(), 4u);
  EXPECT_EQ(m.merges[0], (Pair{'a', 'b'}));
  EXPECT_EQ(m.merges[1], (Pair{'b', 'c'}));
  // "abc": with ranks below its own, tiktoken merges a+b (rank 256) before b+c (257): ab + c.
  EXPECT_EQ(m.merges[2], (Pair{256, 'c'}));
  EXPECT_EQ(m.merges[3], (Pair{258, 256}));  // abc + ab
  ASSERT_EQ(m.external_ids.size(), 260u);
  EXPECT_EQ(m.ExternalId('a'), 255u - 'a');  // bytes keep tiktoken's ranks
  EXPECT_EQ(m.ExternalId(258), 258u);
  const std::vector<TokenId> back = m.InternalIds();
  EXPECT_EQ(back[255 - 'a'], TokenId{'a'});
  EXPECT_EQ(back[259], 259u);
}

TEST(Tiktoken, BadRankFilesAreClearErrors) {
  std::string missing_byte;  // bytes 254..0 at ranks 0..254: no 0xFF
  for (int b = 254; b >= 0; --b) missing_byte += Base64(std::string(1, static_cast<char>(b))) + " " + std::to_string(254 - b) + "\n";
  EXPECT_NE(ErrorOf(missing_byte).find("byte 0xFF has no token"), std::string::npos) << ErrorOf(missing_byte);
  EXPECT_NE(ErrorOf(RankFile({"ab", "ab"})).find("repeats the bytes"), std::string::npos);
  EXPECT_NE(ErrorOf(RankFile({}) + "!!!! 256\n").find("line 257: '!!!!' is not base64"), std::string::npos);
  EXPECT_NE(ErrorOf(RankFile({}) + "YWI=\n").find("expected '<base64 token> <rank>'"), std::string::npos);
  EXPECT_NE(ErrorOf(RankFile({}) + "YQ== x\n").find("expected"), std::string::npos);
  EXPECT_NE(ErrorOf(RankFile({}) + "YWI= 5\n").find("rank 5 is given twice"), std::string::npos);
  EXPECT_NE(ErrorOf(RankFile({}) + "YWI= 257\n").find("rank 256 is missing"), std::string::npos);
  EXPECT_NE(ErrorOf("YQ== 16000000\n").find("rank 16000000 is out of range: the file holds at most 2 tokens"),
            std::string::npos) << ErrorOf("YQ== 16000000\n");
  // "abc" with no "ab" or "bc" below it: no pair of lower tokens makes it.
  EXPECT_NE(ErrorOf(RankFile({"abc"})).find("not one merge of two lower-ranked tokens"), std::string::npos);
  EXPECT_NE(ErrorOf("").find("empty rank file"), std::string::npos);
  try {
    ParseTiktokenJson("{\"pat_str\": \"\\\\w+\", \"bpe_ranks\": \"! 0 YQ==\"}", "x.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not one bpebench implements"), std::string::npos) << e.what();
  }
  for (const char* bad : {"", "{", "[1]", "{\"pat_str\": 1}", "{\"a\": \"\\q\"}", "{\"a\": tru}"}) {
    EXPECT_THROW(ParseTiktokenJson(bad, "x.json"), Error) << bad;
  }
  EXPECT_THROW(LoadTiktoken("p50k_base"), Error);
  try {
    SerializeModel(ParseTiktokenRanks(RankFile({}), "t", "gpt2"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not written as a bpebench model"), std::string::npos);
  }
}

// tiktoken's procedure, written plainly, on ranks read from the rank file by a reader of its own
// (not LoadTiktoken's, so that a parsing or id bug there cannot pass as agreement): the reference our
// encoders must match on these vocabularies.
class TiktokenReference {
 public:
  // The npm package's JSON: "bpe_ranks": "! <first rank> <base64> <base64> ...", ranks counting up.
  explicit TiktokenReference(const std::string& path) {
    const std::string json = ReadFile(path);
    const std::string key = "\"bpe_ranks\":\"";
    const size_t start = json.find(key);
    if (start == std::string::npos) throw std::runtime_error(path + ": no bpe_ranks");
    const size_t end = json.find('"', start + key.size());
    std::istringstream words(json.substr(start + key.size(), end - start - key.size()));
    std::string word;
    uint32_t rank = 0;
    while (words >> word) {
      if (word == "!") {
        words >> rank;
        continue;
      }
      ranks_.emplace(test::Base64Decode(word), rank++);
    }
  }
  size_t size() const { return ranks_.size(); }
  void EncodePiece(std::string_view piece, std::vector<uint32_t>& out) const {
    if (auto it = ranks_.find(piece); it != ranks_.end()) {
      out.push_back(it->second);
      return;
    }
    std::vector<size_t> cut(piece.size() + 1);
    for (size_t i = 0; i <= piece.size(); ++i) cut[i] = i;
    while (cut.size() > 2) {
      uint32_t best = UINT32_MAX;
      size_t at = 0;
      for (size_t i = 0; i + 2 < cut.size(); ++i) {
        auto it = ranks_.find(piece.substr(cut[i], cut[i + 2] - cut[i]));
        if (it != ranks_.end() && it->second < best) best = it->second, at = i;
      }
      if (best == UINT32_MAX) break;
      cut.erase(cut.begin() + static_cast<std::ptrdiff_t>(at) + 1);
    }
    for (size_t i = 0; i + 1 < cut.size(); ++i) out.push_back(ranks_.find(piece.substr(cut[i], cut[i + 1] - cut[i]))->second);
  }

 private:
  boost::unordered_flat_map<std::string, uint32_t, StringHash, std::equal_to<>> ranks_;
};

class TiktokenVocabularies : public ::testing::TestWithParam<const char*> {};

TEST_P(TiktokenVocabularies, EveryEncoderGivesTiktokensIds) {
  const std::string name = GetParam();
  if (FindTiktokenFile(name).empty()) {
    BPEBENCH_MISSING("no " + name + " rank file in the search path (scripts/setup installs the npm tiktoken package)");
  }
  const Model m = LoadTiktoken(name);
  const Vocabulary vocab(m.merges);
  // Every token's bytes come back from the derived merges (checked by Vocabulary's construction),
  // and the sizes are tiktoken's: gpt2 50256 ranks, cl100k 100256, o200k 199998.
  const size_t expected = name == "gpt2" ? 50256 : name == "cl100k_base" ? 100256 : 199998;
  EXPECT_EQ(vocab.size(), expected);
  const TiktokenReference reference(FindTiktokenFile(name));
  EXPECT_EQ(reference.size(), expected);
  const PreTokenizer& pre = FindPreTokenizer(m.pretokenizer).get();
  std::string text;
  BPEBENCH_REQUIRE_CORPORA(test::SmallCorpusNames());
  for (const auto& corpus : test::SmallCorpusNames()) text += test::CorpusSlice(corpus, 60'000);
  text += "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa " + std::string(300, ' ') + "x 1234567 'S 'll\r\n\r\n";
  std::vector<uint32_t> want;
  pre.ForEachPiece(text, [&](std::string_view p) { reference.EncodePiece(p, want); });
  for (const auto& e : Encoders()) {
    if (e.name == kReferenceEncoder) continue;  // O(merges x length): the slice below checks it
    std::vector<TokenId> ids = EncodeText(text, pre, e.make, vocab, 2);
    std::vector<uint32_t> got(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) got[i] = m.ExternalId(ids[i]);
    ASSERT_EQ(got.size(), want.size()) << e.name;
    const auto diff = std::mismatch(got.begin(), got.end(), want.begin());
    EXPECT_TRUE(diff.first == got.end()) << e.name << ": first difference at token " << (diff.first - got.begin());
  }
  const std::string small = text.substr(0, 3000);
  std::vector<uint32_t> want_small;
  pre.ForEachPiece(small, [&](std::string_view p) { reference.EncodePiece(p, want_small); });
  std::vector<TokenId> naive = EncodeText(small, pre, FindEncoder(kReferenceEncoder).make, vocab, 1);
  std::vector<uint32_t> naive_ext;
  for (TokenId id : naive) naive_ext.push_back(m.ExternalId(id));
  EXPECT_EQ(naive_ext, want_small);
}

TEST_P(TiktokenVocabularies, DotTiktokenFileGivesTheSameModel) {
  // OpenAI's .tiktoken format ("<base64> <rank>" lines), written from the npm JSON rank file's
  // tokens, must load as the identical model (same merges, same ids).
  const std::string name = GetParam();
  if (FindTiktokenFile(name).empty()) BPEBENCH_MISSING("no " + name + " rank file in the search path");
  const Model m = LoadTiktoken(name);
  const Vocabulary vocab(m.merges);
  std::vector<std::string> lines(vocab.size());
  for (TokenId id = 0; id < vocab.size(); ++id) {
    lines[m.ExternalId(id)] = Base64(vocab.TokenBytes(id)) + " " + std::to_string(m.ExternalId(id)) + "\n";
  }
  std::string file;
  for (const auto& l : lines) file += l;
  const std::string pre = name == "gpt2" ? "gpt2" : name == "cl100k_base" ? "cl100k" : "o200k";
  EXPECT_EQ(ParseTiktokenRanks(file, name + ".tiktoken", pre), m);
}

INSTANTIATE_TEST_SUITE_P(All, TiktokenVocabularies, ::testing::Values("gpt2", "cl100k_base", "o200k_base"));

}  // namespace
}  // namespace bpe

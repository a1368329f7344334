// HF tokenizer.json export: GPT-2's byte alphabet, our ids carried over, and a clear error for the
// models HF cannot express. That HF itself encodes an exported model to our ids is checked with the
// real library (npm tokenizers) by tests/peers_test.py.
#include <gtest/gtest.h>

#include <fmt/core.h>

#include <set>

#include "algorithms/core/error.h"
#include "algorithms/formats/hf_json.h"
#include "tests/test_util.h"

namespace bpe {
namespace {

TEST(HfJson, ByteLevelAlphabetIsGpt2s) {
  std::set<std::string> seen;
  for (int b = 0; b < 256; ++b) seen.insert(ByteLevelChar(static_cast<unsigned char>(b)));
  EXPECT_EQ(seen.size(), 256u);  // one distinct character per byte
  EXPECT_EQ(ByteLevelChar('a'), "a");
  EXPECT_EQ(ByteLevelChar('!'), "!");
  EXPECT_EQ(ByteLevelChar(0xE9), "\xC3\xA9");  // U+00E9 stands for itself
  EXPECT_EQ(ByteLevelChar(0x00), "\xC4\x80");  // U+0100: the first shifted byte
  EXPECT_EQ(ByteLevelChar(' '), "\xC4\xA0");   // U+0120, GPT-2's "Ġ"
  EXPECT_EQ(ByteLevelChar('\n'), "\xC4\x8A");  // U+010A, "Ċ"
  EXPECT_EQ(ByteLevelChar(0xAD), "\xC5\x83");  // U+0143: the last shifted byte (soft hyphen)
}

TEST(HfJson, ExportListsOurIdsAndMergesInRankOrder) {
  // "  " -> 256, then "a" + "  " -> 257, quote and backslash bytes to check JSON escaping.
  const Model m{"gpt2", {{' ', ' '}, {'a', 256}, {'"', '\\'}}};
  const std::string json = ExportHfTokenizerJson(m);
  EXPECT_NE(json.find("\"type\": \"ByteLevel\", \"add_prefix_space\": false"), std::string::npos);
  EXPECT_EQ(json.find("\\u00"), std::string::npos) << "every character of the alphabet is printable";
  EXPECT_NE(json.find("\"\xC4\xA0\xC4\xA0\": 256"), std::string::npos);
  EXPECT_NE(json.find("\"a\xC4\xA0\xC4\xA0\": 257"), std::string::npos);
  EXPECT_NE(json.find("\"\\\"\\\\\": 258"), std::string::npos);
  const size_t first = json.find("\"\xC4\xA0 \xC4\xA0\"");
  const size_t second = json.find("\"a \xC4\xA0\xC4\xA0\"");
  const size_t third = json.find("\"\\\" \\\\\"");
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  ASSERT_NE(third, std::string::npos);
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_NE(json.find("\"Ā\": 0,"), std::string::npos);
  EXPECT_NE(json.find("\"a\": 97,"), std::string::npos);
}

TEST(HfJson, ModelsHfCannotHoldAreErrors) {
  // Two merges that spell the same bytes: "ab" + "c" and "a" + "bc".
  const Model dup{"gpt2", {{'a', 'b'}, {'b', 'c'}, {256, 'c'}, {'a', 257}}};
  try {
    ExportHfTokenizerJson(dup);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("token 259 has the same bytes as token 258"), std::string::npos) << e.what();
  }
  try {
    ExportHfTokenizerJson(Model{"whitespace", {}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("needs a gpt2 model"), std::string::npos) << e.what();
  }
}

TEST(HfJson, ImportReadsBackWhatExportWrote) {
  const Model m{"gpt2", test::TrainModel(test::Count(test::CorpusSlice("gutenberg5", 200'000), "gpt2"), 2000)};
  const Model back = ParseHfTokenizerJson(ExportHfTokenizerJson(m), "t.json");
  EXPECT_EQ(back.merges, m.merges);
  ASSERT_EQ(back.external_ids.size(), 2000u);
  for (TokenId i = 0; i < 2000; ++i) ASSERT_EQ(back.external_ids[i], i);
}

TEST(HfJson, ImportTakesHfIdsAndPairArrays) {
  // A GPT-2-style file: its own id order, merges as [left, right] arrays.
  std::string vocab;
  for (int b = 0; b < 256; ++b) {
    std::string name = ByteLevelChar(static_cast<unsigned char>(b));
    if (name == "\"" || name == "\\") name = "\\" + name;
    vocab += fmt::format("\"{}\": {}, ", name, 255 - b);
  }
  const std::string json = "{\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}, "
                           "\"model\": {\"type\": \"BPE\", \"vocab\": {" + vocab + "\"ab\": 257, \"abc\": 256}, "
                           "\"merges\": [[\"a\", \"b\"], \"ab c\"]}}";
  const Model m = ParseHfTokenizerJson(json, "t.json");
  EXPECT_EQ(m.merges, (MergeList{{'a', 'b'}, {256, 'c'}}));
  EXPECT_EQ(m.ExternalId('a'), 255u - 'a');
  EXPECT_EQ(m.ExternalId(256), 257u);
  EXPECT_EQ(m.ExternalId(257), 256u);
}

TEST(HfJson, ImportRefusesWhatItWouldGetWrong) {
  const std::string good = ExportHfTokenizerJson(Model{"gpt2", {{'a', 'b'}, {256, 'c'}}});
  auto error_of = [](const std::string& json) {
    try {
      ParseHfTokenizerJson(json, "t.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  auto replace = [&](std::string_view from, std::string_view to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  EXPECT_NE(error_of(replace("\"type\": \"BPE\"", "\"type\": \"WordPiece\"")).find("model.type is not BPE"), std::string::npos);
  EXPECT_NE(error_of(replace("\"normalizer\": null", "\"normalizer\": {\"type\": \"NFC\"}")).find("normalizer"), std::string::npos);
  EXPECT_NE(error_of(replace("\"use_regex\": true}", "\"use_regex\": false}")).find("ByteLevel with use_regex"), std::string::npos);
  EXPECT_NE(error_of(replace("\"byte_fallback\": false", "\"byte_fallback\": true")).find("byte_fallback"), std::string::npos);
  EXPECT_NE(error_of(replace("\"dropout\": null", "\"dropout\": 0.1")).find("dropout"), std::string::npos);
  EXPECT_NE(error_of(replace("\"a\": 97,", "")).find("byte 0x61 ('a') is not in the vocabulary"), std::string::npos);
  EXPECT_NE(error_of(replace("\"ab c\"", "\"ab x\"")).find("result 'abx' is not in the vocabulary"), std::string::npos);
  EXPECT_NE(error_of(replace("\"ab c\"", "\"abc c\"")).find("uses a token no earlier merge made"), std::string::npos);
  EXPECT_NE(error_of(replace("\"ab c\"", "\"abc\"")).find("is not \"left right\""), std::string::npos);
  EXPECT_NE(error_of(good.substr(0, good.size() / 2)).find("looks like a tokenizer.json cut short at byte"),
            std::string::npos) << error_of(good.substr(0, good.size() / 2));
  EXPECT_NE(error_of(replace("\"ab c\"", "\"ab c\", \"a bc\"")).find("uses a token"), std::string::npos);
  // Two strings on one id would decode one as the other: merge "a b" with "ab": 97 encoded
  // "ab a b" as 97 32 97 32 98, which decoded to "ab ab b".
  EXPECT_NE(error_of(replace("\"ab\": 256", "\"ab\": 97")).find("'a' and 'ab' have the same id 97"), std::string::npos)
      << error_of(replace("\"ab\": 256", "\"ab\": 97"));
  EXPECT_NE(error_of(replace("\"ab\": 256", "\"ab\": 300")).find("the ids are not 0..257"), std::string::npos)
      << error_of(replace("\"ab\": 256", "\"ab\": 300"));
  EXPECT_NE(error_of(replace("\"ab\": 256,", "\"ab\": 256, \"ab\": 258,")).find("'ab' is in model.vocab twice"),
            std::string::npos);
}

}  // namespace
}  // namespace bpe

// HF tokenizer.json export: GPT-2's byte alphabet, our ids carried over, and a clear error for the
// models HF cannot express. That HF itself encodes an exported model to our ids is checked with the
// real library (npm tokenizers) by tests/peers_test.py.
#include <gtest/gtest.h>

#include <set>

#include "algorithms/core/error.h"
#include "algorithms/core/hf_json.h"
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

}  // namespace
}  // namespace bpe

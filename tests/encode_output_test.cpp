// bpebench encode --format text|u16|u32|npy --output FILE --separator ID: the same ids in every
// format, streamed across 1 MiB blocks exactly as the whole text encodes, files written atomically,
// and clear errors where a format cannot hold the ids.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <sstream>

#include "algorithms/core/vocabulary.h"
#include "algorithms/formats/model_file.h"
#include "algorithms/registry.h"
#include "algorithms/runtime/file_io.h"
#include "algorithms/runtime/text.h"
#include "tests/test_util.h"

namespace bpe {
namespace {

using test::Cli;
using test::WriteTemp;

std::vector<uint32_t> TextIds(const std::string& line) {
  std::vector<uint32_t> ids;
  std::istringstream in(line);
  for (uint32_t id; in >> id;) ids.push_back(id);
  return ids;
}

std::vector<uint32_t> Flat(const std::string& bytes, size_t width) {
  EXPECT_EQ(bytes.size() % width, 0u);
  std::vector<uint32_t> ids(bytes.size() / width);
  for (size_t i = 0; i < ids.size(); ++i) {
    uint32_t v = 0;
    for (size_t b = 0; b < width; ++b) v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i * width + b])) << (8 * b);
    ids[i] = v;
  }
  return ids;
}

// A NumPy .npy file: checks the header as numpy.load reads it, returns the data.
std::vector<uint32_t> Npy(const std::string& bytes) {
  EXPECT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header = 10 + static_cast<unsigned char>(bytes[8]) + 256 * static_cast<unsigned char>(bytes[9]);
  EXPECT_EQ(header % 64, 0u) << "the data starts aligned";
  const std::string dict = bytes.substr(10, header - 10);
  EXPECT_NE(dict.find("'descr': '<u4'"), std::string::npos) << dict;
  EXPECT_NE(dict.find("'fortran_order': False"), std::string::npos) << dict;
  EXPECT_EQ(dict.back(), '\n');
  const std::vector<uint32_t> ids = Flat(bytes.substr(header), 4);
  EXPECT_NE(dict.find("'shape': (" + std::to_string(ids.size()) + ",)"), std::string::npos) << dict;
  return ids;
}

class EncodeOutput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    text_ = WriteTemp("out_text.txt", test::CorpusSlice("gutenberg5", 200'000));
    other_ = WriteTemp("out_other.txt", "Zwei Wörter, 東京 und noch etwas Text.\n");
    model_ = test::TempDir() + "/out.model";
    ASSERT_EQ(Cli("train --vocab-size 1000 --output " + model_ + " " + text_).status, 0);
  }
  static inline std::string text_, other_, model_;
};

TEST_F(EncodeOutput, EveryFormatHoldsTheSameIds) {
  const test::CliResult text = Cli("encode --model " + model_ + " " + text_);
  ASSERT_EQ(text.status, 0) << text.err;
  const std::vector<uint32_t> want = TextIds(text.out);
  ASSERT_GT(want.size(), 10000u);
  const std::string dir = test::TempDir();
  for (const char* format : {"text", "u16", "u32", "npy"}) {
    const std::string out = dir + "/ids." + format;
    const test::CliResult r = Cli(std::string("encode --format ") + format + " --output " + out + " --model " + model_ + " " + text_);
    ASSERT_EQ(r.status, 0) << format << ": " << r.err;
    EXPECT_EQ(r.out, "");
    const std::string bytes = ReadFile(out);
    const std::string f = format;
    const std::vector<uint32_t> got = f == "text" ? TextIds(bytes) : f == "u16" ? Flat(bytes, 2) : f == "u32" ? Flat(bytes, 4) : Npy(bytes);
    EXPECT_EQ(got, want) << format;
    if (f == "text") {
      EXPECT_EQ(bytes, text.out);
    }
    if (f == "u16") {
      EXPECT_EQ(bytes.size(), 2 * want.size());
    }
  }
  // To standard output (redirected), npy is held and written whole.
  const test::CliResult npy = Cli("encode --format npy --model " + model_ + " " + text_);
  ASSERT_EQ(npy.status, 0) << npy.err;
  EXPECT_EQ(Npy(npy.out), want);
}

TEST_F(EncodeOutput, SeveralFilesWithASeparatorMakeOneOutput) {
  const std::vector<uint32_t> a = TextIds(Cli("encode --model " + model_ + " " + text_).out);
  const std::vector<uint32_t> b = TextIds(Cli("encode --model " + model_ + " " + other_).out);
  const std::string out = test::TempDir() + "/joined.u32";
  const test::CliResult r = Cli("encode --format u32 --separator 999 --output " + out + " --model " + model_ + " " + text_ + " " + other_ + " " + text_);
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<uint32_t> want = a;
  want.push_back(999);
  want.insert(want.end(), b.begin(), b.end());
  want.push_back(999);
  want.insert(want.end(), a.begin(), a.end());
  EXPECT_EQ(Flat(ReadFile(out), 4), want);
}

TEST_F(EncodeOutput, StreamingAcrossBlocksGivesTheIdsOfTheWholeText) {
  // Just over one 16 MiB block, through standard input (the cut at a block's last safe boundary is
  // tested with small blocks in StreamEncoding.StreamedInBlocksEqualsWholeText); the ids must be
  // those the library gives the whole text.
  std::string big;
  const std::string part = ReadFile(text_) + ReadFile(other_);
  while (big.size() < (17u << 20)) big += part;
  const std::string path = WriteTemp("out_big.txt", big);
  const Model model = LoadModel(model_);
  const Vocabulary vocab(model.merges);
  const std::vector<TokenId> want = EncodeText(big, FindPreTokenizer(model.pretokenizer).get(), FindEncoder("cached").make, vocab, 2);
  const std::string out = test::TempDir() + "/big.u32";
  const test::CliResult r = Cli("encode --threads 2 --format u32 --output " + out + " --model " + model_ + " - < " + path);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Flat(ReadFile(out), 4), std::vector<uint32_t>(want.begin(), want.end()));
  std::filesystem::remove(path);
}

TEST_F(EncodeOutput, FormatsThatCannotHoldTheIdsAreRefused) {
  const std::string out = test::TempDir() + "/refused.u16";
  test::ExpectCliError(Cli("encode --format u16 --output " + out + " --model cl100k_base " + text_),
                       "--format u16 holds ids up to 65535, and this model's ids go up to 100255: use --format u32");
  EXPECT_FALSE(std::filesystem::exists(out));
  test::ExpectCliError(Cli("encode --format u16 --separator 70000 --output " + out + " --model " + model_ + " " + text_),
                       "--separator 70000 does not fit --format u16");
  test::ExpectCliError(Cli("encode --separator 3 --model " + model_ + " " + text_),
                       "--separator is for --format u16, u32 or npy");
  test::ExpectCliError(Cli("encode --format u64 --model " + model_ + " " + text_), "unknown --format 'u64' (text, u16, u32, npy)");
}

TEST_F(EncodeOutput, AFailedRunLeavesNoFileAndKeepsTheOldOne) {
  const std::string out = WriteTemp("kept.u32", "the old contents");
  const std::string bad = WriteTemp("out_bad.txt", "fine text, then \xC3(");
  test::ExpectCliError(Cli("encode --format u32 --output " + out + " --model " + model_ + " " + text_ + " " + bad),
                       "invalid UTF-8");
  EXPECT_EQ(ReadFile(out), "the old contents");
  for (const auto& entry : std::filesystem::directory_iterator(test::TempDir())) {
    EXPECT_EQ(entry.path().filename().string().rfind(".bpebench-", 0), std::string::npos) << "temporary file left: " << entry.path();
  }
  test::ExpectCliError(Cli("encode --output " + text_ + " --model " + model_ + " " + text_), "is the input file");
}

}  // namespace
}  // namespace bpe

// Model files: deterministic bytes, exact round trip, and a clear bpe::Error (never a crash or a
// wrong model) for every damaged, truncated or foreign file.
#include <gtest/gtest.h>

#include <filesystem>

#include "algorithms/core/error.h"
#include "algorithms/runtime/file_io.h"
#include "algorithms/formats/model_file.h"
#include "tests/test_util.h"

namespace bpe {
namespace {

Model SmallModel() {
  return {"gpt2", test::TrainReference(test::Count(test::CorpusSlice("gutenberg5", 20'000), "gpt2"), 300)};
}

std::string ErrorOf(std::string_view bytes) {
  try {
    ParseModel(bytes, "m");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ModelFile, RoundTripsAndIsDeterministic) {
  const Model m = SmallModel();
  const std::string bytes = SerializeModel(m);
  EXPECT_EQ(ParseModel(bytes, "m"), m);
  EXPECT_EQ(SerializeModel(ParseModel(bytes, "m")), bytes);
  EXPECT_EQ(bytes.substr(0, 30), "bpebench-model 1\npretokenizer ");
  const Model empty{"none", {}};
  EXPECT_EQ(ParseModel(SerializeModel(empty), "m"), empty);
}

TEST(ModelFile, EveryTruncationIsAnError) {
  const std::string bytes = SerializeModel(SmallModel());
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string message = ErrorOf(bytes.substr(0, n));
    ASSERT_FALSE(message.empty()) << "truncated at " << n << " of " << bytes.size() << " parsed";
  }
}

TEST(ModelFile, EverySingleByteChangeInTheMergesIsAnError) {
  const std::string bytes = SerializeModel(SmallModel());
  const size_t begin = bytes.find("merges ");
  const size_t end = bytes.find("checksum");
  for (size_t i = bytes.find('\n', begin) + 1; i < end; ++i) {
    for (char c : {'0', '7', ' ', 'x'}) {
      if (bytes[i] == c) continue;
      std::string damaged = bytes;
      damaged[i] = c;
      ASSERT_FALSE(ErrorOf(damaged).empty()) << "byte " << i << " set to '" << c << "' parsed";
    }
  }
}

TEST(ModelFile, ForeignAndDamagedFilesAreClearErrors) {
  EXPECT_EQ(ErrorOf(""), "m: empty model file");
  EXPECT_NE(ErrorOf("{\"model\": {\"type\": \"BPE\"}}").find("not a bpebench model file"), std::string::npos);
  EXPECT_NE(ErrorOf("IQ== 0\nIg== 1\n").find("not a bpebench model file"), std::string::npos);  // tiktoken
  EXPECT_NE(ErrorOf(std::string("\x7f" "ELF\0\0", 6)).find("not a bpebench model file"), std::string::npos);
  auto with = [](std::string merges_block) {
    return "bpebench-model 1\npretokenizer gpt2\n" + merges_block;
  };
  EXPECT_NE(ErrorOf(with("merges 1\n300 97\nchecksum 0\nend\n")).find("does not exist yet"), std::string::npos);
  EXPECT_NE(ErrorOf(with("merges 99999999999\n")).find("larger than the limit"), std::string::npos);
  EXPECT_NE(ErrorOf(with("merges 1000\n97 98\n")).find("does not fit"), std::string::npos);
  EXPECT_NE(ErrorOf(with("merges x\n")).find("not a number"), std::string::npos);
  EXPECT_NE(ErrorOf("bpebench-model 1\npretokenizer bogus\nmerges 0\n").find("unknown pre-tokenizer"),
            std::string::npos);
  // A repeated pair with a correct checksum is still refused.
  Model twice{"gpt2", {{'a', 'b'}, {'a', 'b'}}};
  EXPECT_NE(ErrorOf(SerializeModel(twice)).find("repeats merge 0"), std::string::npos);
  std::string extra = SerializeModel(SmallModel()) + "more\n";
  EXPECT_NE(ErrorOf(extra).find("after 'end'"), std::string::npos);
}

TEST(ModelFile, SaveIsAtomicAndLoadNamesTheFile) {
  const std::string path = test::TempDir() + "/model.bpe";
  const Model m = SmallModel();
  SaveModel(m, path);
  EXPECT_EQ(LoadModel(path), m);
  for (const auto& entry : std::filesystem::directory_iterator(test::TempDir())) {
    EXPECT_FALSE(entry.path().filename().string().starts_with(".bpebench-")) << "temporary file left behind";
  }
  try {
    LoadModel(test::TempDir() + "/missing.bpe");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.bpe"), std::string::npos);
  }
  EXPECT_THROW(LoadModel(test::TempDir()), Error);  // a directory
  EXPECT_THROW(SaveModel(m, test::TempDir() + "/no/such/folder/m.bpe"), Error);
}

}  // namespace
}  // namespace bpe

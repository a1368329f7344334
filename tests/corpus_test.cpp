// The corpus manifest: every listed corpus is present and matches its sha256, and missing or
// damaged files are errors that say which file and where it was looked for.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "algorithms/core/error.h"
#include "corpora/corpus.h"
#include "corpora/sha256.h"
#include "tests/test_util.h"

namespace bpe {
namespace {

namespace fs = std::filesystem;

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Manifest, ListsTheSharedCorporaAndTheyAllVerify) {
  const auto manifest = LoadManifest();
  std::vector<std::string> all;
  for (const auto& c : manifest) all.push_back(c.name);
  BPEBENCH_REQUIRE_CORPORA(all);
  std::vector<std::string> names;
  for (const auto& c : manifest) names.push_back(c.name);
  for (const char* expected : {"gutenberg5", "tinyshakespeare", "gutenberg93", "udhr59", "zh_sanguo",
                               "lua", "python_stdlib"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
  for (const auto& c : manifest) {
    SCOPED_TRACE(c.name);
    const std::string text = LoadCorpusText(c);  // throws on a missing file or a wrong hash
    if (c.files[0].unpacked_sha256.empty()) {
      EXPECT_EQ(text.size(), c.bytes());
    }
    EXPECT_GT(text.size(), 100'000u);
  }
  EXPECT_EQ(FindCorpus(manifest, "gutenberg5").files.size(), 5u);
  EXPECT_EQ(LoadCorpusText("gutenberg5").size(), 3'120'954u);
  EXPECT_EQ(LoadCorpusText("gutenberg93").size(), 63'356'580u);
}

class ScratchCorpora : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::TempDir() + "/corpora-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(dir_);
    std::ofstream(dir_ + "/a.txt") << "hello world\n";
    std::ofstream(dir_ + "/manifest.tsv")
        << "# test manifest\ncorpus\tfile\tbytes\tsha256\tunpacked_sha256\tlicense\torigin\n"
        << "tiny\ta.txt\t12\t" << Sha256Hex("hello world\n") << "\t-\tnone\ttest\n"
        << "gone\tmissing.txt\t5\t" << Sha256Hex("gone\n") << "\t-\tnone\ttest\n";
    setenv("BPEBENCH_CORPORA", dir_.c_str(), 1);
    setenv("BPEBENCH_MANIFEST", (dir_ + "/manifest.tsv").c_str(), 1);
  }
  void TearDown() override {
    unsetenv("BPEBENCH_CORPORA");
    unsetenv("BPEBENCH_MANIFEST");
  }
  static std::string ErrorOf(const std::string& name) {
    try {
      LoadCorpusText(name);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  std::string dir_;
};

TEST_F(ScratchCorpora, LoadsAVerifiedCorpus) { EXPECT_EQ(LoadCorpusText("tiny"), "hello world\n"); }

TEST_F(ScratchCorpora, MissingFileNamesFileAndFolder) {
  const std::string e = ErrorOf("gone");
  EXPECT_NE(e.find("missing.txt"), std::string::npos) << e;
  EXPECT_NE(e.find(dir_), std::string::npos) << e;
  EXPECT_NE(e.find("BPEBENCH_CORPORA"), std::string::npos) << e;
}

TEST_F(ScratchCorpora, ChangedFileIsAHashMismatch) {
  std::ofstream(dir_ + "/a.txt") << "hello w0rld\n";
  EXPECT_NE(ErrorOf("tiny").find("sha256"), std::string::npos);
}

TEST_F(ScratchCorpora, DamagedManifestNamesTheLine) {
  std::ofstream(dir_ + "/manifest.tsv")
      << "corpus\tfile\tbytes\tsha256\tunpacked_sha256\tlicense\torigin\n"
      << "tiny\ta.txt\ttwelve\t" << Sha256Hex("hello world\n") << "\t-\tnone\ttest\n";
  EXPECT_NE(ErrorOf("tiny").find("manifest.tsv:2: the size 'twelve' is not a number"), std::string::npos)
      << ErrorOf("tiny");
  std::ofstream(dir_ + "/manifest.tsv") << "corpus\tfile\n";
  EXPECT_NE(ErrorOf("tiny").find("expected the column header"), std::string::npos);
}

TEST_F(ScratchCorpora, UnknownCorpusListsTheKnownOnes) {
  EXPECT_NE(ErrorOf("nope").find("unknown corpus 'nope' (known: tiny, gone)"), std::string::npos);
}

// A clone with no ../shared beside it: the default corpus comes from its bundled copy, checked
// against the manifest's sha256; a shared corpus is a clear error naming the file and the folder.
TEST(BundledCorpus, TheDefaultCorpusLoadsWithoutTheSharedFolder) {
  const std::string empty = test::TempDir() + "/no-corpora";
  const std::string cache = test::TempDir() + "/bundled-cache";
  fs::create_directories(empty);
  fs::remove_all(cache);
  setenv("BPEBENCH_CORPORA", empty.c_str(), 1);
  setenv("BPEBENCH_CACHE", cache.c_str(), 1);
  const auto manifest = LoadManifest();
  EXPECT_EQ(MissingCorpusReason(FindCorpus(manifest, kDefaultCorpus)), "");
  const std::string text = LoadCorpusText(kDefaultCorpus);
  EXPECT_EQ(text.size(), FindCorpus(manifest, kDefaultCorpus).bytes());
  EXPECT_EQ(LoadCorpusText(kDefaultCorpus), text);  // the second load reads the unpacked cache
  const std::string why = MissingCorpusReason(FindCorpus(manifest, "udhr59"));
  EXPECT_NE(why.find("corpus 'udhr59'"), std::string::npos) << why;
  EXPECT_NE(why.find(empty), std::string::npos) << why;
  std::string error;
  try {
    LoadCorpusText("udhr59");
  } catch (const Error& e) {
    error = e.what();
  }
  EXPECT_EQ(error, why);
  unsetenv("BPEBENCH_CORPORA");
  unsetenv("BPEBENCH_CACHE");
  fs::remove_all(cache);
}

}  // namespace
}  // namespace bpe

// Hostile input and interrupted runs, through the real `bpebench` binary: the rows of the bad-input
// table in docs/reliability.md that cli_test.cpp does not already cover, and "nothing lost" (no truncated file
// under a final name after a full disk or a signal).
#include <gtest/gtest.h>

#include <tuple>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "algorithms/runtime/file_io.h"
#include "algorithms/formats/model_file.h"
#include "tests/test_util.h"

namespace bpe {
namespace {

using Result = test::CliResult;
using test::Cli;
using test::WriteTemp;

// Temporary files a writer may have left in `dir` (.bpebench-XXXXXX, see OutputFile).
std::vector<std::string> LeftoverTemps(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().starts_with(".bpebench-")) found.push_back(e.path());
  }
  return found;
}

std::string SmallModel(const std::string& name) {
  const std::string text = WriteTemp(name + ".txt", "the cat sat on the mat with the hat\n");
  const std::string model = test::TempDir() + "/" + name + ".model";
  EXPECT_EQ(Cli("train --vocab-size 262 --output " + model + " " + text).status, 0);
  return model;
}

TEST(BadInput, UnreadableFile) {
  const std::string path = WriteTemp("secret.txt", "hello world\n");
  std::filesystem::permissions(path, std::filesystem::perms::none);
  // root reads anything: run the CLI as nobody then (the test folder must let nobody through).
  std::string prefix;
  if (::geteuid() == 0) {
    std::filesystem::permissions(test::TempDir(), std::filesystem::perms::owner_all |
                                                      std::filesystem::perms::others_exec);
    prefix = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  }
  test::ExpectCliError(Cli("train --vocab-size 300 --output /tmp/never.model " + path, prefix),
              "bpebench: error: cannot open '" + path + "': Permission denied", "unreadable file");
  test::ExpectCliError(Cli("encode --model " + SmallModel("unreadable") + " " + path, prefix),
              "bpebench: error: cannot open '" + path + "': Permission denied", "unreadable file (encode)");
}

TEST(BadInput, RandomBytesWithoutBinaryFlag) {
  std::mt19937_64 rng(3);
  std::string bytes = test::RandomBytes(rng, 100'000);
  std::replace(bytes.begin(), bytes.end(), '\0', '\x01');  // no NUL: the UTF-8 check must catch it
  const std::string path = WriteTemp("random_no_nul.bin", bytes);
  test::ExpectCliError(Cli("train --vocab-size 300 --output " + test::TempDir() + "/r.model " + path),
              "invalid UTF-8 at byte offset", "random bytes (train)");
  test::ExpectCliError(Cli("encode --model " + SmallModel("random") + " " + path), "invalid UTF-8",
              "random bytes (encode)");
}

TEST(BadInput, InvalidUtf8CutByABlockEdgeIsFoundAtItsOffset) {
  // Training input is read in 16 MiB blocks: a 3-byte character that straddles the first block's
  // end must be accepted, and a broken one there must be reported at its offset in the file.
  const size_t block = size_t{16} << 20;
  std::string text(block - 1, 'a');
  for (size_t i = 1000; i < text.size(); i += 1000) text[i] = '\n';
  const std::string good = WriteTemp("edge_good.txt", text + "\xE4\xB8\xAD tail\n");
  const std::string model = test::TempDir() + "/edge.model";
  const Result ok = Cli("train --vocab-size 260 --output " + model + " " + good);
  EXPECT_EQ(ok.status, 0) << ok.err;
  const std::string bad = WriteTemp("edge_bad.txt", text + "\xE4\xB8( tail\n");
  test::ExpectCliError(Cli("train --vocab-size 260 --output " + model + " " + bad),
              "invalid UTF-8 at byte offset " + std::to_string(block - 1), "broken UTF-8 at a block edge");
}

// Under AddressSanitizer everything runs several times slower: a line of 25 MB (still longer than
// the 16 MiB read block) keeps this test from being the suite's long pole there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr size_t kLongLineBytes = 25'000'000;
#else
constexpr size_t kLongLineBytes = 100'000'000;
#endif

TEST(BadInput, LongLineWithoutWhitespace) {
  // One piece of 100 MB (25 MB under the sanitizers): counting must stream past it and `linked`
  // must train on it in time linear in its length (`pq` rewrites the whole piece for every merge).
  // Random letters, so that every merge has occurrences spread over the whole piece.
  std::string line(kLongLineBytes, 'a');
  uint64_t x = 88172645463325252ull;
  for (char& c : line) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>('a' + x % 26);
  }
  const std::string path = WriteTemp("long-line.txt", line);
  line.clear();
  line.shrink_to_fit();
  const std::string model = test::TempDir() + "/line.model";
  for (const char* pre : {"gpt2"}) {  // `none` without newlines: NonePreTokenizerOnTextWithoutNewlines
    const Result r = Cli(std::string("train --algorithm linked --threads 2 --vocab-size 300 --pretokenizer ") +
                         pre + " --output " + model + " " + path);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("trained 44 merges"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("1 distinct pieces"), std::string::npos) << r.err;
  }
  std::filesystem::remove(path);
}

TEST(BadInput, ModelTruncatedAtEveryByte) {
  const std::string model = SmallModel("trunc_every");
  const std::string bytes = ReadFile(model);
  const std::string text = WriteTemp("trunc_every_in.txt", "the cat\n");
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string cut = WriteTemp("cut.model", bytes.substr(0, n));
    const Result r = Cli("encode --model " + cut + " " + text);
    test::ExpectCliError(r, "cut.model", "model truncated to " + std::to_string(n) + " bytes");
  }
  EXPECT_EQ(Cli("encode --model " + model + " " + text).status, 0);
}

TEST(BadInput, ModelsWithImpossibleMergesOrFromOtherTools) {
  const std::string text = WriteTemp("impossible_in.txt", "the cat\n");
  // A correct header, count and checksum around impossible merges: the id checks must catch them.
  auto model_with = [](const MergeList& merges) { return SerializeModel({"gpt2", merges}); };
  const std::vector<std::pair<MergeList, std::string>> cases = {
      {{{'a', 'b'}, {256, 258}}, "merge 1 (256 258) refers to a token id that does not exist yet"},
      {{{70000, 'b'}}, "merge 0 (70000 98) refers to a token id that does not exist yet"},
      {{{'a', 'b'}, {'a', 'b'}}, "merge 1 (97 98) repeats merge 0"},
  };
  for (const auto& [merges, needle] : cases) {
    test::ExpectCliError(Cli("encode --model " + WriteTemp("impossible.model", model_with(merges)) + " " + text),
                needle, needle);
  }
  // Files of other tools: HF's tokenizer.json is read when it is plain byte-level BPE and otherwise
  // refused with the reason; a tiktoken rank file is read under a .tiktoken name; the rest are not
  // models at all.
  const std::vector<std::tuple<std::string, std::string, std::string>> foreign = {
      {R"({"version":"1.0","model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]}})", "HF tokenizer.json",
       "cannot read this tokenizer.json as byte-level BPE: the pre-tokenizer is not ByteLevel"},
      {R"({"version":"1.0","model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]})", "truncated tokenizer.json",
       "looks like a tokenizer.json cut short at byte 72 (expected ',' or '}')"},
      {"IQ== 0\nIg== 1\nIw== 2\n", "tiktoken rank file", "not a bpebench model file"},
      {"\x7F" "ELF\x02\x01\x01", "ELF binary", "not a bpebench model file"},
      {"#version: 0.2\nt h\nth e\n", "GPT-2 merges.txt", "not a bpebench model file"},
  };
  for (const auto& [bytes, what, needle] : foreign) {
    test::ExpectCliError(Cli("encode --model " + WriteTemp("foreign.model", bytes) + " " + text), needle, what);
  }
  test::ExpectCliError(Cli("encode --model " + WriteTemp("ranks.tiktoken", "IQ== 0\nIg== 1\n") + " --pretokenizer gpt2 " + text),
              "byte 0x00 has no token", "tiktoken rank file missing bytes");
}

TEST(BadInput, DecodeIdsThatDoNotExist) {
  const std::string model = SmallModel("decode_ids");
  test::ExpectCliError(Cli("decode --model " + model + " " + WriteTemp("ids1", "262\n")), "token id 262", "262");
  test::ExpectCliError(Cli("decode --model " + model + " " + WriteTemp("ids2", "4294967295\n")), "token id 4294967295",
              "max id");
  test::ExpectCliError(Cli("decode --model " + model + " " + WriteTemp("ids3", "-1\n")), "is not a token id", "-1");
}

TEST(BadInput, NonePreTokenizerOnTextWithoutNewlines) {
  // `none` makes the whole file one piece: memory holds that piece (as it must to count it) and
  // the encoders that are not quadratic stay fast. Encoding 2 MB as one piece with `heap`.
  std::string text;
  while (text.size() < 2'000'000) text += "no newline anywhere in this text, only spaces. ";
  const std::string path = WriteTemp("nonewline.txt", text);
  const std::string model = test::TempDir() + "/nonewline.model";
  const Result t = Cli("train --algorithm linked --pretokenizer none --vocab-size 400 --output " + model + " " + path);
  ASSERT_EQ(t.status, 0) << t.err;
  EXPECT_NE(t.err.find("1 distinct pieces"), std::string::npos) << t.err;
  const Result e = Cli("encode --algorithm heap --model " + model + " " + path);
  ASSERT_EQ(e.status, 0) << e.err;
  const Result d = Cli("decode --model " + model + " " + WriteTemp("nonewline.ids", e.out));
  EXPECT_TRUE(d.out == text) << "round trip failed";
}

TEST(NothingLost, FullDiskLeavesTheOldModelAndNoTemporaryFile) {
  // A file size limit stands in for a full disk: writes fail with EFBIG (SIGXFSZ is ignored).
  const std::string dir = test::TempDir() + "/fulldisk";
  std::filesystem::create_directories(dir);
  const std::string model = dir + "/m.model";
  WriteFileAtomically(model, "old model\n");
  const std::string text = WriteTemp("fulldisk.txt", test::CorpusSlice("gutenberg5", 200'000));
  const Result r = Cli("train --vocab-size 2000 --output " + model + " " + text, "ulimit -f 4; ");
  test::ExpectCliError(r, "cannot write '" + model + "': File too large", "write past the size limit");
  EXPECT_EQ(ReadFile(model), "old model\n");
  EXPECT_TRUE(LeftoverTemps(dir).empty());
}

TEST(NothingLost, InterruptedTrainingLeavesTheOldModel) {
  const std::string dir = test::TempDir() + "/interrupt";
  std::filesystem::create_directories(dir);
  const std::string model = dir + "/m.model";
  WriteFileAtomically(model, "old model\n");
  const std::string text = WriteTemp("interrupt.txt", test::CorpusSlice("gutenberg5", 1'000'000));
  const std::string err = dir + "/stderr.txt";
  for (int sig : {SIGINT, SIGTERM}) {
    // naive training to 5000 takes many seconds: the signal lands in the middle of it. Started
    // directly (a shell's background job would ignore SIGINT).
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::signal(SIGINT, SIG_DFL);
      if (!::freopen(err.c_str(), "w", stderr)) ::_exit(126);
      ::execl(BPEBENCH_CLI, BPEBENCH_CLI, "train", "--algorithm", "naive", "--vocab-size", "5000",
              "--output", model.c_str(), text.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ::kill(child, sig);
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << "expected death by signal " << sig;
    // The handler ran (the default action would end the process without a word), then ended the
    // process by the same signal.
    EXPECT_NE(ReadFile(err).find("bpebench: interrupted (no partial output file is left)"), std::string::npos)
        << ReadFile(err);
    EXPECT_EQ(ReadFile(model), "old model\n");
    EXPECT_TRUE(LeftoverTemps(dir).empty());
  }
}

TEST(NothingLost, SignalDuringTheWriteRemovesTheTemporaryFile) {
  // A child writes 300 MB with WriteFileAtomically. As soon as its temporary file appears the parent
  // stops it (SIGSTOP) and checks that the final name is not there yet, so the write is under way;
  // then SIGTERM and SIGCONT: the handler must remove the temporary file and end the child by
  // SIGTERM. Should a write ever finish before the stop, it is tried again; never reaching the signal
  // path in three tries fails the test.
  const std::string dir = test::TempDir() + "/midwrite";
  const std::string path = dir + "/big.model";
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      InstallSignalCleanup();
      const std::string data(300'000'000, 'x');
      try {
        WriteFileAtomically(path, data);
      } catch (...) {
      }
      ::_exit(0);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (LeftoverTemps(dir).empty() && !std::filesystem::exists(path) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    ::kill(child, SIGSTOP);
    int status = 0;
    ::waitpid(child, &status, WUNTRACED);
    if (std::filesystem::exists(path) || LeftoverTemps(dir).empty()) {  // finished first, or never began
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      continue;
    }
    ::kill(child, SIGTERM);
    ::kill(child, SIGCONT);
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child exited with status " << WEXITSTATUS(status);
    EXPECT_EQ(WTERMSIG(status), SIGTERM);
    EXPECT_TRUE(LeftoverTemps(dir).empty()) << "the temporary file was left";
    EXPECT_FALSE(std::filesystem::exists(path));
    std::filesystem::remove_all(dir);
    return;
  }
  std::filesystem::remove_all(dir);
  FAIL() << "in three tries the signal never arrived during the write: the cleanup path was not tested";
}

}  // namespace
}  // namespace bpe

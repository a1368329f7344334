// Hostile paths, files and options, through the real `bpebench` binary: output that must never
// replace what is not a model file, inputs that must not be read without bound, options that mean
// one thing, and messages that say what a file looks like. Each case is a row of the bad-input table
// in docs/reliability.md.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "algorithms/runtime/file_io.h"
#include "tests/test_util.h"

namespace bpe {
namespace {

namespace fs = std::filesystem;
using test::Cli;
using test::ShellQuote;
using test::WriteTemp;

// A scratch folder of the test's own.
std::string Scratch() {
  const std::string dir = test::TempDir() + "/hostile-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string Text(const std::string& dir) { return WriteTemp(fs::path(dir).filename().string() + ".txt", "the cat sat on the mat\n"); }

TEST(HostileOutput, ACharacterDeviceIsWrittenToNotReplaced) {
  const std::string dir = Scratch();
  // As root a device node of our own stands in for /dev/null (the real one is left alone either way);
  // otherwise /dev/null itself.
  std::string dev = "/dev/null";
  if (::geteuid() == 0) {
    dev = dir + "/null";
    ASSERT_EQ(::mknod(dev.c_str(), S_IFCHR | 0666, makedev(1, 3)), 0) << std::strerror(errno);
  }
  const std::string model = dir + "/m.model";
  ASSERT_EQ(Cli("train --vocab-size 260 --output " + model + " " + Text(dir)).status, 0);
  for (const std::string& args : {"train --vocab-size 260 --output " + dev + " " + Text(dir),
                                  "export --format hf --model " + model + " --output " + dev}) {
    const auto r = Cli(args);
    EXPECT_EQ(r.status, 0) << args << "\n" << r.err;
    struct stat st {};
    ASSERT_EQ(::lstat(dev.c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << dev << " was replaced by " << args;
  }
}

TEST(HostileOutput, AFifoGetsTheModel) {
  const std::string dir = Scratch();
  const std::string fifo = dir + "/pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string received;
  std::thread reader([&] { received = ReadFile(fifo); });
  const auto r = Cli("train --vocab-size 260 --output " + fifo + " " + Text(dir));
  reader.join();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(received.starts_with("bpebench-model 1\n")) << received;
  struct stat st {};
  ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST(HostileOutput, ASymlinkIsWrittenThroughAndADanglingOneRefused) {
  const std::string dir = Scratch();
  const std::string target = dir + "/v3.model", link = dir + "/latest.model";
  WriteTemp(fs::path(dir).filename().string() + "/v3.model", "old\n");
  fs::create_symlink(target, link);
  ASSERT_EQ(Cli("train --vocab-size 260 --output " + link + " " + Text(dir)).status, 0);
  EXPECT_TRUE(fs::is_symlink(link)) << "the link itself was replaced";
  EXPECT_TRUE(ReadFile(target).starts_with("bpebench-model 1\n"));
  const std::string dangling = dir + "/dangling.model";
  fs::create_symlink(dir + "/nowhere/x.model", dangling);
  test::ExpectCliError(Cli("train --vocab-size 260 --output " + dangling + " " + Text(dir)), "symbolic link to a file that does not exist");
}

TEST(HostileOutput, AReadOnlyFileAndADirectoryAreRefused) {
  const std::string dir = Scratch();
  const std::string kept = WriteTemp(fs::path(dir).filename().string() + "/kept.model", "precious\n");
  fs::permissions(kept, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  test::ExpectCliError(Cli("train --vocab-size 260 --output " + kept + " " + Text(dir)), "the file is read-only");
  EXPECT_EQ(ReadFile(kept), "precious\n");
  test::ExpectCliError(Cli("train --vocab-size 260 --output " + dir + " " + Text(dir)), "it is a directory");
}

TEST(HostileOutput, TheTemporaryFileIsNotAPredictableName) {
  // A link planted where the old writer put its temporary file (OUT.tmp.PID) must not be followed.
  const std::string dir = Scratch();
  const std::string precious = WriteTemp(fs::path(dir).filename().string() + "/precious.txt", "precious\n");
  const std::string out = dir + "/o.model";
  fs::create_symlink(precious, out + ".tmp." + std::to_string(::getpid()));
  WriteFileAtomically(out, "new model\n");
  EXPECT_EQ(ReadFile(precious), "precious\n");
  EXPECT_EQ(ReadFile(out), "new model\n");
  int temps = 0;
  for (const auto& e : fs::directory_iterator(dir)) temps += e.path().filename().string().starts_with(".bpebench-");
  EXPECT_EQ(temps, 0) << "a temporary file was left";
}

TEST(HostileOutput, AnOutputThatIsAnInputIsRefusedBeforeAnyWork) {
  const std::string dir = Scratch();
  const std::string text = Text(dir);
  const std::string before = ReadFile(text);
  test::ExpectCliError(Cli("train --vocab-size 260 --output " + text + " " + text), "is the input file");
  EXPECT_EQ(ReadFile(text), before);
  const std::string model = dir + "/m.model";
  ASSERT_EQ(Cli("train --vocab-size 260 --output " + model + " " + text).status, 0);
  const std::string model_before = ReadFile(model);
  test::ExpectCliError(Cli("export --format hf --model " + model + " --output " + model), "is the input file");
  EXPECT_EQ(ReadFile(model), model_before);
}

TEST(HostileOutput, AMissingFolderFailsBeforeTrainingAndLongNamesWork) {
  const std::string dir = Scratch();
  // naive training to 5000 on this text takes many seconds: an error after it would come with
  // progress lines on stderr; ExpectError wants the one line of the error alone.
  const std::string text = WriteTemp("hostile-big.txt", test::CorpusSlice("gutenberg5", 1'000'000));
  test::ExpectCliError(Cli("train --algorithm naive --vocab-size 5000 --output " + dir + "/no/such/m.model " + text),
              "the folder '" + dir + "/no/such' does not exist");
  const std::string longname = dir + "/" + std::string(250, 'n');
  const auto r = Cli("train --vocab-size 260 --output " + longname + " " + Text(dir));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(ReadFile(longname).starts_with("bpebench-model 1\n"));
}

TEST(HostileOutput, DashIsStandardOutput) {
  const std::string dir = Scratch();
  const auto r = Cli("train --vocab-size 260 --output - " + Text(dir));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("bpebench-model 1\n"));
  EXPECT_FALSE(fs::exists("-"));
  const std::string model = WriteTemp("hostile-dash.model", r.out);
  const auto e = Cli("export --format hf --model " + model + " --output -");
  EXPECT_EQ(e.status, 0) << e.err;
  EXPECT_TRUE(e.out.starts_with("{"));
}

TEST(HostileInput, EndlessFilesAreRefusedAtTheirFirstBlock) {
  // Each would read until memory runs out if it read its input whole before looking at it.
  const std::string model = test::TempDir() + "/hostile-endless.model";
  ASSERT_EQ(Cli("train --vocab-size 260 --output " + model + " " + WriteTemp("hostile-endless.txt", "abc abc\n")).status, 0);
  test::ExpectCliError(Cli("encode --model /dev/zero", "echo hi | "), "it holds NUL bytes");
  test::ExpectCliError(Cli("encode --model " + model + " /dev/zero"), "looks like a binary file (NUL byte at offset 0)");
  test::ExpectCliError(Cli("decode --model " + model + " /dev/zero"), "is not a token id");
  test::ExpectCliError(Cli("export --format hf --model /dev/zero"), "not a bpebench model file");
  const auto list = Cli("list", "BPEBENCH_MANIFEST=/dev/zero ");
  EXPECT_EQ(list.status, 0);
  EXPECT_NE(list.err.find("not a corpus manifest"), std::string::npos) << list.err;
}

TEST(HostileOptions, HelpIsAnOptionOnlyWhereAnOptionStands) {
  const std::string dir = Scratch();
  const std::string out = dir + "/-h";
  // The value of --output: a file named -h, no help.
  const auto r = Cli("train --vocab-size 260 --output " + out + " " + Text(dir));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(ReadFile(out).starts_with("bpebench-model 1\n"));
  // After --: a file name.
  test::ExpectCliError(Cli("train --vocab-size 260 --output " + dir + "/m.model -- -h"), "cannot open '-h'");
  EXPECT_NE(Cli("train --vocab-size 260 -h").out.find("usage: bpebench train"), std::string::npos);
}

TEST(HostileOptions, RepeatedUnknownAndContradictingValuesAreErrors) {
  const std::string dir = Scratch();
  test::ExpectCliError(Cli("train --vocab-size 300 --vocab-size 400 --output " + dir + "/m.model " + Text(dir)),
              "option --vocab-size is given more than once");
  test::ExpectCliError(Cli("train --vocab-size 100 --output " + dir + "/m.model " + Text(dir)),
              "--vocab-size 100 is below the 256-byte alphabet (256..16777216)");
  const std::string model = dir + "/m.model";
  ASSERT_EQ(Cli("train --vocab-size 260 --output " + model + " " + Text(dir)).status, 0);
  test::ExpectCliError(Cli("encode --model " + model + " --pretokenizer bogus", "echo hi | "), "unknown pre-tokenizer 'bogus'");
  test::ExpectCliError(Cli("encode --model " + model + " --pretokenizer cl100k", "echo hi | "),
              "--pretokenizer cl100k contradicts the model " + model + ", whose pattern is gpt2");
  test::ExpectCliError(Cli("encode --model " + model + " --out x", "echo hi | "), "unknown option '--out'");
}

TEST(HostileMessages, SayWhatTheFileLooksLike) {
  const std::string dir = Scratch();
  const std::string model = dir + "/m.model";
  ASSERT_EQ(Cli("train --vocab-size 262 --output " + model + " " + Text(dir)).status, 0);
  std::string crlf;
  for (char c : ReadFile(model)) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  test::ExpectCliError(Cli("encode --model " + WriteTemp("hostile-crlf.model", crlf), "echo hi | "), "CRLF (Windows) line ends");
  const std::string json = dir + "/tokenizer.json";
  ASSERT_EQ(Cli("export --format hf --model " + model + " --output " + json).status, 0);
  const std::string tokenizer = ReadFile(json);
  test::ExpectCliError(Cli("encode --model " + WriteTemp("hostile-bom.json", "\xEF\xBB\xBF" + tokenizer), "echo hi | "),
              "byte order mark (BOM)");
  test::ExpectCliError(Cli("encode --model " + WriteTemp("hostile-cut.json", tokenizer.substr(0, 2000)), "echo hi | "),
              "looks like a tokenizer.json cut short at byte 2000");
  // Leading whitespace is still JSON: it loads and gives the model's ids.
  const auto spaced = Cli("encode --model " + WriteTemp("hostile-spaced.json", "\n  " + tokenizer), "echo hi | ");
  EXPECT_EQ(spaced.status, 0) << spaced.err;
  EXPECT_EQ(spaced.out, Cli("encode --model " + model, "echo hi | ").out);
}

TEST(HostileMessages, NamesAndBytesAreEscapedAndWriteErrorsSayWhy) {
  const std::string dir = Scratch();
  const std::string evil = dir + "/a\x1b[31mred\x07/m.model";
  const auto r = Cli("train --vocab-size 260 --output " + ShellQuote(evil) + " " + Text(dir));
  test::ExpectCliError(r, "a\\x1B[31mred\\x07");
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << "a raw escape reached the terminal";
  // Bytes from a file: a NUL does not cut the message short.
  const std::string model = dir + "/m.model";
  ASSERT_EQ(Cli("train --vocab-size 260 --output " + model + " " + Text(dir)).status, 0);
  const auto d = Cli("decode --model " + model + " " + WriteTemp("hostile-nul.txt", std::string("12 x\0y 13", 9)));
  test::ExpectCliError(d, "'x\\x00y' at byte 3 is not a token id");
  if (fs::exists("/dev/full")) {
    // The braces keep the redirection to /dev/full inside; the test's own capture goes around them.
    test::ExpectCliError(Cli("encode --model " + model + " > /dev/full; }", "{ echo hi | "), "No space left on device");
  }
}

TEST(HostileMessages, AFileThatShadowsAVocabularyNameIsNoted) {
  const std::string dir = Scratch();
  const std::string model = dir + "/m.model";
  ASSERT_EQ(Cli("train --vocab-size 260 --output " + model + " " + Text(dir)).status, 0);
  fs::copy_file(model, dir + "/gpt2");
  const auto r = Cli("encode --model gpt2", "cd " + dir + " && echo hi | ");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("note: reading the file 'gpt2' in this folder, not tiktoken's gpt2 vocabulary"), std::string::npos)
      << r.err;
}

TEST(HostileModels, AModelOfLongTokensStaysSmallAndExact) {
  // One run of a letter trains a model of a few hundred bytes whose tokens double in length: the
  // encoders' tables must follow the model's size, not its tokens' lengths (held whole, the tokens
  // of such a model trained on 50 MB take gigabytes, and tables built from them minutes).
  const std::string dir = Scratch();
  const std::string model = dir + "/a.model";
  ASSERT_EQ(Cli("train --vocab-size 1000 --output " + model + " " +
                WriteTemp("hostile-run.txt", std::string(3'000'000, 'a') + "\n")).status, 0);
  EXPECT_LT(fs::file_size(model), 1000u);
  const std::string text = WriteTemp("hostile-run-text.txt", "hi " + std::string(400'000, 'a') + "b\n");
  std::string expected;
  for (const char* encoder : {"naive", "heap", "hybrid", "backtrack", "cached"}) {
    const auto hi = Cli(std::string("encode --algorithm ") + encoder + " --model " + model, "echo hi | ");
    EXPECT_EQ(hi.status, 0) << encoder << ": " << hi.err;
    EXPECT_EQ(hi.out, "104 105 10\n") << encoder;
    const auto r = Cli(std::string("encode --algorithm ") + encoder + " --model " + model + " " + text);
    EXPECT_EQ(r.status, 0) << encoder << ": " << r.err;
    if (expected.empty()) expected = r.out;
    EXPECT_EQ(r.out, expected) << encoder;
  }
  const auto d = Cli("decode --model " + model, "echo " + expected.substr(0, expected.size() - 1) + " | ");
  EXPECT_EQ(d.status, 0) << d.err;
  EXPECT_EQ(d.out, ReadFile(text));
  test::ExpectCliError(Cli("export --format hf --model " + model), "too long to export");
}

TEST(HostileModels, ALongTokenInATiktokenFileLoadsInLinearTime) {
  // Rank 257 is a million letters that no merge of lower ranks makes: refused at once (a derivation
  // quadratic in the token's length would take minutes).
  std::string ranks;
  for (int b = 0; b < 256; ++b) ranks += test::Base64(std::string(1, static_cast<char>(b))) + " " + std::to_string(b) + "\n";
  const std::string ladder_head = ranks;
  ranks += test::Base64("aa") + " 256\n" + test::Base64(std::string(1'000'000, 'a')) + " 257\n";
  test::ExpectCliError(Cli("encode --pretokenizer gpt2 --model " + WriteTemp("hostile-long.tiktoken", ranks), "echo hi | "),
              "token of rank 257 (1000000 bytes) is not one merge of two lower-ranked tokens");
  // A ladder a, aa, aaaa, ... up to 2^18 letters: it loads, and a run of 44 letters is 32 + 8 + 4.
  std::string ladder = ladder_head;
  for (int k = 1; k <= 18; ++k) ladder += test::Base64(std::string(size_t{1} << k, 'a')) + " " + std::to_string(255 + k) + "\n";
  const auto r = Cli("encode --pretokenizer gpt2 --model " + WriteTemp("hostile-ladder.tiktoken", ladder),
                     "echo " + std::string(44, 'a') + " | ");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "260 258 257 10\n");
}

TEST(HostileModels, ATokenizerJsonWhoseIdsWouldNotRoundTripIsRefused) {
  // Merge "a b" with "ab": 97 (the id of "a"): "ab a b" encoded to 97 32 97 32 98 and decoded to
  // "ab ab b" when such a file was accepted.
  const std::string dir = Scratch();
  const std::string model = dir + "/ab.model";
  ASSERT_EQ(Cli("train --vocab-size 257 --output " + model + " " + WriteTemp("hostile-ab.txt", "ab\nab\nab\n")).status, 0);
  const auto json = Cli("export --format hf --model " + model);
  ASSERT_EQ(json.status, 0) << json.err;
  std::string bad = json.out;
  const size_t at = bad.find("\"ab\": 256");
  ASSERT_NE(at, std::string::npos);
  bad.replace(at, 9, "\"ab\": 97");
  test::ExpectCliError(Cli("encode --model " + WriteTemp("hostile-dup-id.json", bad), "echo ab a b | "),
              "'a' and 'ab' have the same id 97");
}

}  // namespace
}  // namespace bpe

// The real `bpebench` binary: identical files from every trainer and encoder, exact round trips, and
// one clear line on stderr with a non-zero exit for every kind of bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "algorithms/runtime/file_io.h"
#include "algorithms/runtime/memory.h"
#include "algorithms/formats/tiktoken.h"
#include "corpora/corpus.h"
#include "tests/test_util.h"

namespace bpe {
namespace {

using test::ShellQuote;

using Result = test::CliResult;
using test::Cli;
using test::WriteTemp;

// A failure: non-zero status, nothing on stdout, exactly one line on stderr that contains `needle`.
void ExpectError(const std::string& args, const std::string& needle) {
  const Result r = Cli(args);
  EXPECT_NE(r.status, 0) << args;
  EXPECT_LT(r.status, 128) << "crashed: " << args << "\n" << r.err;
  EXPECT_EQ(r.out, "") << args;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << args << "\nstderr: " << r.err;
}

TEST(Cli, EveryTrainerWritesTheSameModelAndEveryEncoderTheSameIds) {
  BPEBENCH_REQUIRE_CORPORA("udhr59");
  const std::string text = WriteTemp("alice.txt", test::CorpusSlice("gutenberg5", 120'000));
  std::string first_model;
  for (const auto& t : Trainers()) {
    const std::string model = test::TempDir() + "/cli_" + std::string(t.name) + ".model";
    const Result r = Cli("train --algorithm " + std::string(t.name) + " --vocab-size 800 --output " +
                         model + " " + text);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("trained 544 merges"), std::string::npos) << r.err;
    const std::string bytes = ReadFile(model);
    if (first_model.empty()) first_model = bytes;
    EXPECT_EQ(bytes, first_model) << t.name << " wrote a different model file";
  }
  const std::string model = WriteTemp("cli.model", first_model);
  const std::string held_out = WriteTemp("held_out.txt", test::CorpusSlice("udhr59", 50'000));
  std::string first_ids;
  for (const auto& e : Encoders()) {
    for (const char* threads : {"1", "2"}) {
      const Result r = Cli("encode --algorithm " + std::string(e.name) + " --threads " + threads +
                           " --model " + model + " " + held_out);
      ASSERT_EQ(r.status, 0) << r.err;
      if (first_ids.empty()) first_ids = r.out;
      EXPECT_EQ(r.out, first_ids) << e.name << " with " << threads << " threads";
    }
  }
  const std::string ids = WriteTemp("ids.txt", first_ids);
  const Result d = Cli("decode --model " + model + " " + ids);
  ASSERT_EQ(d.status, 0) << d.err;
  EXPECT_EQ(d.out, ReadFile(held_out));
  // Standard input works too.
  const Result piped = Cli("encode --model " + model + " - < " + held_out);
  EXPECT_EQ(piped.out, first_ids);
}

TEST(Cli, EncodeWritesOneLinePerFileInOrderAndStopsAtABadOne) {
  BPEBENCH_REQUIRE_CORPORA("udhr59");
  const std::string model = test::TempDir() + "/multi.model";
  const std::string a = WriteTemp("multi_a.txt", test::CorpusSlice("gutenberg5", 20'000));
  const std::string b = WriteTemp("multi_b.txt", test::CorpusSlice("udhr59", 20'000));
  ASSERT_EQ(Cli("train --vocab-size 600 --output " + model + " " + a).status, 0);
  const std::string ids_a = Cli("encode --model " + model + " " + a).out;
  const std::string ids_b = Cli("encode --model " + model + " " + b).out;
  ASSERT_EQ(std::count(ids_a.begin(), ids_a.end(), '\n'), 1);
  ASSERT_NE(ids_a, ids_b);
  for (const auto& e : Encoders()) {
    const Result r = Cli("encode --algorithm " + std::string(e.name) + " --model " + model + " " + b + " " + a + " " + b);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, ids_b + ids_a + ids_b) << e.name;
  }
  EXPECT_EQ(Cli("encode --model " + model + " " + a + " - < " + b).out, ids_a + ids_b);
  ExpectError("encode --model " + model + " - - < " + a, "standard input (-) can be given once");
  // A bad file stops the run with its name; the lines of the files before it are written.
  const std::string bad = WriteTemp("multi_bad.txt", "ok\xC3(");
  const Result r = Cli("encode --model " + model + " " + a + " " + bad + " " + b);
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(r.out, ids_a);
  EXPECT_NE(r.err.find("multi_bad.txt"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("invalid UTF-8"), std::string::npos) << r.err;
}

TEST(Cli, BinaryInputRoundTripsWithTheFlag) {
  std::mt19937_64 rng(1);
  const std::string bytes = test::RandomBytes(rng, 5000);
  const std::string path = WriteTemp("random.bin", bytes);
  const std::string model = test::TempDir() + "/bin.model";
  ASSERT_EQ(Cli("train --binary --pretokenizer none --vocab-size 300 --output " + model + " " + path).status, 0);
  const Result e = Cli("encode --binary --model " + model + " " + path);
  ASSERT_EQ(e.status, 0) << e.err;
  const Result d = Cli("decode --model " + model + " " + WriteTemp("bin.ids", e.out));
  EXPECT_EQ(d.out, bytes);
}

TEST(Cli, TrainReportsWhenTheVocabSizeIsNotReached) {
  const std::string path = WriteTemp("short.txt", "abc abc abd\n");
  const Result r = Cli("train --vocab-size 5000 --output " + test::TempDir() + "/short.model " + path);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.err.find("no pairs left"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("was not reached"), std::string::npos) << r.err;
}

TEST(Cli, MinFrequencyStopsAtItsBoundary) {
  // Lines (pieces under `none`) "ab\n" x3 and "cd\n" x2: (a,b) and then (ab,\n) occur 3 times,
  // (c,d) and (cd,\n) twice.
  const std::string path = WriteTemp("minfreq.txt", "ab\nab\nab\ncd\ncd\n");
  const std::string model = test::TempDir() + "/minfreq.model";
  auto merges = [&](const std::string& min) {
    const Result r = Cli("train --vocab-size 300 --pretokenizer none --min-frequency " + min + " --output " + model + " " + path);
    EXPECT_EQ(r.status, 0) << r.err;
    return r.err;
  };
  std::string err = merges("3");
  EXPECT_NE(err.find("trained 2 merges"), std::string::npos) << err;
  EXPECT_NE(err.find("the best pair occurs fewer times than min_frequency"), std::string::npos) << err;
  err = merges("2");  // (c,d) occurs exactly twice: it merges
  EXPECT_NE(err.find("trained 4 merges"), std::string::npos) << err;
  EXPECT_NE(err.find("no pairs left"), std::string::npos) << err;
  ExpectError("train --vocab-size 300 --min-frequency 0 --output " + model + " " + path,
              "--min-frequency 0 is out of range");
}

TEST(Cli, HelpAndList) {
  for (const char* cmd : {"--help", "list --help", "train --help", "encode --help", "decode --help", "export --help",
                          "corpus --help"}) {
    const Result r = Cli(cmd);
    EXPECT_EQ(r.status, 0) << cmd;
    EXPECT_NE(r.out.find("usage"), std::string::npos) << cmd;
  }
  const Result list = Cli("list");
  ASSERT_EQ(list.status, 0);
  for (const auto& t : Trainers()) EXPECT_NE(list.out.find("trainer\t" + std::string(t.name) + "\t"), std::string::npos);
  for (const auto& e : Encoders()) EXPECT_NE(list.out.find("encoder\t" + std::string(e.name) + "\t"), std::string::npos);
  for (const auto& p : PreTokenizers()) EXPECT_NE(list.out.find("pretokenizer\t" + std::string(p.name) + "\t"), std::string::npos);
  EXPECT_NE(list.out.find("corpus\tgutenberg5\t"), std::string::npos);
  EXPECT_NE(Cli("").status, 0);
}

TEST(Cli, CorpusWritesTheCheckedText) {
  BPEBENCH_REQUIRE_CORPORA("tinyshakespeare");
  const Result r = Cli("corpus tinyshakespeare");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, LoadCorpusText("tinyshakespeare"));
  EXPECT_NE(Cli("corpus atlantis").err.find("unknown corpus 'atlantis'"), std::string::npos);
  EXPECT_NE(Cli("corpus").err.find("corpus takes one corpus name"), std::string::npos);
}

TEST(Cli, ExportWritesTokenizerJsonAtomicallyOrSaysWhy) {
  const std::string text = WriteTemp("export.txt", "the cat sat on the mat\n");
  const std::string model = test::TempDir() + "/export.model";
  ASSERT_EQ(Cli("train --vocab-size 270 --output " + model + " " + text).status, 0);
  const Result to_stdout = Cli("export --format hf --model " + model);
  ASSERT_EQ(to_stdout.status, 0) << to_stdout.err;
  EXPECT_NE(to_stdout.out.find("\"type\": \"BPE\""), std::string::npos);
  const std::string json = test::TempDir() + "/export.json";
  ASSERT_EQ(Cli("export --format hf --model " + model + " --output " + json).status, 0);
  EXPECT_EQ(ReadFile(json), to_stdout.out);

  const std::string ws = test::TempDir() + "/ws.model";
  ASSERT_EQ(Cli("train --vocab-size 270 --pretokenizer whitespace --output " + ws + " " + text).status, 0);
  ExpectError("export --format hf --model " + ws, "needs a gpt2 model");
  ExpectError("export --format sentencepiece --model " + model, "unknown format 'sentencepiece' (known: hf)");
  ExpectError("export --model " + model, "--format is required");
  ExpectError("export --format hf --model " + text, "not a bpebench model file");
  ExpectError("export --format hf --model " + model + " --output " + test::TempDir() + "/no/dir/x.json", "cannot write");
}

TEST(Cli, TiktokenVocabulariesGiveTiktokensIds) {
  if (FindTiktokenFile("cl100k_base").empty()) {
    BPEBENCH_MISSING("no tiktoken rank files in the search path (scripts/setup installs them)");
  }
  const std::string text = WriteTemp("hello.txt", "Hello world");
  // Well-known ids: tiktoken.get_encoding(name).encode_ordinary("Hello world").
  const std::pair<const char*, const char*> expected[] = {
      {"gpt2", "15496 995\n"}, {"r50k_base", "15496 995\n"}, {"cl100k_base", "9906 1917\n"}, {"o200k_base", "13225 2375\n"}};
  for (const auto& [name, ids] : expected) {
    // Every encoder with cl100k_base; the default one with the others (each call loads the
    // vocabulary, seconds under the sanitizers; every encoder meets every vocabulary in peers_test).
    for (const auto& e : Encoders()) {
      if (std::string_view(name) != "cl100k_base" && e.name != "cached") continue;
      const Result r = Cli(std::string("encode --model ") + name + " --algorithm " + std::string(e.name) + " " + text);
      ASSERT_EQ(r.status, 0) << r.err;
      EXPECT_EQ(r.out, ids) << name << " " << e.name;
    }
    const Result back = Cli(std::string("decode --model ") + name + " " + WriteTemp("hello.ids", ids));
    EXPECT_EQ(back.out, "Hello world") << back.err;
  }
  ExpectError("decode --model cl100k_base " + WriteTemp("special.ids", "100257\n"), "special tokens are not decoded");
  ExpectError("encode --model p50k_base " + text, "p50k_base");
  ExpectError("encode --model " + WriteTemp("x.tiktoken", "YQ== 0\n") + " " + text, "give --pretokenizer");
  ExpectError("encode --model " + WriteTemp("y.tiktoken", "YQ== 0\n") + " --pretokenizer cl100k " + text, "has no token");
  EXPECT_NE(Cli("list").out.find("vocabulary\tcl100k_base\t"), std::string::npos);
}

TEST(Cli, BadInputIsOneClearLineAndANonZeroExit) {
  const std::string good = WriteTemp("good.txt", "the cat sat on the mat\n");
  const std::string model = test::TempDir() + "/good.model";
  ASSERT_EQ(Cli("train --vocab-size 270 --output " + model + " " + good).status, 0);
  const std::string out = " --output " + test::TempDir() + "/x.model ";

  ExpectError("frobnicate", "unknown command 'frobnicate'");
  ExpectError("train --vocab-size 300" + out + test::TempDir() + "/nope.txt", "nope.txt");
  ExpectError("train --vocab-size 300" + out + test::TempDir(), "is a directory");
  ExpectError("train --vocab-size 300" + out + WriteTemp("empty.txt", ""), "empty");
  ExpectError("train --vocab-size 300" + out + WriteTemp("nul.bin", std::string("ab\0cd", 5)), "NUL byte at offset 2");
  ExpectError("train --vocab-size 300" + out + WriteTemp("bad.txt", "ok\xC3("), "invalid UTF-8 at byte offset 2");
  ExpectError("train --vocab-size 300" + out + WriteTemp("trunc.txt", "ok\xE4\xB8"), "invalid UTF-8");
  ExpectError("train --vocab-size 100" + out + good, "below the 256-byte alphabet");
  ExpectError("train --vocab-size 99999999999" + out + good, "out of range");
  ExpectError("train --vocab-size ten" + out + good, "not a whole number");
  ExpectError("train --vocab-size 300 --threads 0" + out + good, "--threads 0 is out of range");
  ExpectError("train --vocab-size 300 --threads 10000" + out + good, "out of range");
  ExpectError("train --vocab-size 300 --algorithm magic" + out + good, "unknown trainer 'magic'");
  ExpectError("train --vocab-size 300 --pretokenizer magic" + out + good, "unknown pre-tokenizer 'magic'");
  ExpectError("train --vocab-size 300 --corpus atlantis" + out, "unknown corpus 'atlantis'");
  ExpectError("train --vocab-size 300" + out, "give either input FILEs or --corpus NAME");
  ExpectError("train --output x.model " + good, "--vocab-size is required");
  ExpectError("train --vocab-size 300 --bogus 1" + out + good, "unknown option '--bogus'");
  ExpectError("train --vocab-size 300 --output " + test::TempDir() + "/no/dir/m.model " + good, "cannot write");
  ExpectError("encode --model " + model + " --algorithm magic " + good, "unknown encoder 'magic'");
  ExpectError("encode --model " + test::TempDir() + "/none.model " + good, "none.model");
  ExpectError("encode --model " + good + " " + good, "not a bpebench model file");
  ExpectError("encode --model " + WriteTemp("empty.model", "") + " " + good, "empty model file");
  ExpectError("encode --model " + WriteTemp("trunc.model", ReadFile(model).substr(0, 40)) + " " + good, "truncated");
  ExpectError("decode --model " + model + " " + WriteTemp("bad.ids", "1 2 270\n"), "token id 270");
  ExpectError("decode --model " + model + " " + WriteTemp("word.ids", "1 two 3\n"), "'two' at byte 2 is not a token id");
  ExpectError("decode --model " + model + " " + WriteTemp("huge.ids", "99999999999999999999\n"), "too large");
}

// train --verbose says where the memory went: the peak by the end of each phase, and the largest
// structures with their bytes per distinct piece (the trainer's, from TrainResult::memory).
TEST(Cli, TrainVerboseReportsThePeakByPhaseAndTheLargestStructures) {
  const std::string file = WriteTemp("memory.txt", "the cat sat on the mat, the cat ate the rat\n");
  for (const char* algorithm : {"linked", "sharded"}) {
    const test::CliResult r = Cli(std::string("train --verbose --algorithm ") + algorithm + " --vocab-size 270 --output /dev/null " + file);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("train: peak RSS by the end of counting "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(", of the merge loop "), std::string::npos) << r.err;
    // The trainer's own structures: `sharded` has a pair table per shard.
    const std::string pairs = std::string(algorithm) == "sharded" ? "; pair tables at the end " : "; pair table at the end ";
    for (const std::string& part : {std::string("train: memory: counting tables "), std::string("; word counts "),
                                   std::string("; symbols "), std::string("; position lists at the start "), pairs}) {
      EXPECT_NE(r.err.find(part), std::string::npos) << algorithm << ": no '" << part << "' in " << r.err;
    }
  }
}

// train and count restart themselves with malloc's huge pages (memory.h), unless GLIBC_TUNABLES
// already sets malloc's tunables: the user's choice wins, and other tunables are kept.
TEST(Cli, TrainAndCountUseHugePagesUnlessTheUserSetsMalloc) {
  const std::string file = WriteTemp("hugepages.txt", "hello world hello world\n");
  test::CliResult r = Cli("train --verbose --vocab-size 260 --output /dev/null " + file, "env -u GLIBC_TUNABLES ");
  ASSERT_EQ(r.status, 0) << r.err;
#if defined(BPEBENCH_SANITIZER_MALLOC)
  EXPECT_NE(r.err.find(std::string("train: allocator: ") + kSanitizerMalloc), std::string::npos) << r.err;
#else
  EXPECT_NE(r.err.find(std::string("train: allocator: glibc malloc as GLIBC_TUNABLES sets it: ") + kHugePageTunables + "\n"),
            std::string::npos) << r.err;
  r = Cli("count --verbose --output /dev/null " + file, "GLIBC_TUNABLES=glibc.rtld.optional_static_tls=2000 ");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find(std::string("sets it: glibc.rtld.optional_static_tls=2000:") + kHugePageTunables + "\n"),
            std::string::npos) << r.err;
#endif
  r = Cli("count --verbose --output /dev/null " + file, "GLIBC_TUNABLES=glibc.malloc.trim_threshold=1000000 ");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("count: allocator: glibc malloc as GLIBC_TUNABLES sets it: glibc.malloc.trim_threshold=1000000\n"),
            std::string::npos) << r.err;
}

}  // namespace
}  // namespace bpe

// Helpers shared by the test files: corpus slices, models trained by the reference trainer, random
// inputs from fixed seeds.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "algorithms/registry.h"
#include "algorithms/runtime/text.h"
#include "algorithms/core/types.h"

// A test that needs something from outside the project (a corpus from ../shared/corpora, the npm
// packages that scripts/setup installs) and does not find it: skipped with the reason on a
// developer's machine, a failure that names what is missing under CI (CI=true), where a green run
// must mean every test ran.
#define BPEBENCH_MISSING(reason)                                                  \
  do {                                                                            \
    if (::bpe::test::InCi()) {                                                    \
      FAIL() << "missing in CI, where every test must run: " << (reason);         \
    } else {                                                                      \
      GTEST_SKIP() << (reason);                                                   \
    }                                                                             \
  } while (0)

// A test that needs corpora from ../shared/corpora (all but the bundled gutenberg5): BPEBENCH_MISSING
// when one is not here, naming the file and where it was looked for.
#define BPEBENCH_REQUIRE_CORPORA(...)                                                        \
  do {                                                                                       \
    if (const std::string why = ::bpe::test::MissingCorpora({__VA_ARGS__}); !why.empty()) { \
      BPEBENCH_MISSING(why);                                                                 \
    }                                                                                        \
  } while (0)

namespace bpe::test {

// Whether this is a CI run ($CI set to anything but "" or "false").
bool InCi();

// How many times smaller the heaviest randomized and whole-corpus reference checks run under
// AddressSanitizer or ThreadSanitizer (4; else 1). The sanitizers look for memory and thread errors,
// which a quarter of the cases reach; the release preset runs every case (scripts/test step 4).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr int kSanitizerDivisor = 4;
#else
inline constexpr int kSanitizerDivisor = 1;
#endif

// Every corpus in the manifest except the big packed one (its slice is taken separately).
std::vector<std::string> SmallCorpusNames();
// Those of `names` that can be loaded here.
std::vector<std::string> PresentCorpora(const std::vector<std::string>& names);
// Why some of `names` cannot be loaded here (which file, where it was looked for), or "".
std::string MissingCorpora(const std::vector<std::string>& names);

// The first `bytes` of a corpus, cut back to a line end (cached per process).
std::string CorpusSlice(const std::string& name, size_t bytes);

// Merges from the reference trainer.
MergeList TrainReference(const WordCounts& counts, uint32_t vocab_size, uint64_t min_frequency = 1);
// The same merges from a fast trainer (`linked`; the trainer suite checks it against the reference),
// for tests of encoders that need models of a few thousand merges.
MergeList TrainModel(const WordCounts& counts, uint32_t vocab_size);

WordCounts Count(const std::string& text, const std::string& pretokenizer, int threads = 1);

// Encodes with a registered encoder by name, one thread.
std::vector<TokenId> EncodeWith(const std::string& encoder, const Vocabulary& vocab,
                                const std::string& pretokenizer, std::string_view text);

// Random text over a small alphabet, with separators, from rng.
std::string RandomText(std::mt19937_64& rng, size_t length, const std::string& alphabet);
// Random bytes of any value (mostly invalid UTF-8).
std::string RandomBytes(std::mt19937_64& rng, size_t length);

// The real bpebench binary, run through the shell: `prefix` goes before it (ulimit, setpriv).
struct CliResult {
  int status;
  std::string out, err;
};
CliResult Cli(const std::string& args, const std::string& prefix = "");
// A failure of the CLI: a non-zero status (not a crash), nothing on stdout, exactly one line on
// stderr that contains `needle`.
void ExpectCliError(const CliResult& r, const std::string& needle, const std::string& what = "");
// Writes data to TempDir()/name; returns the path.
std::string WriteTemp(const std::string& name, const std::string& data);

// Standard base64 with padding (tiktoken's rank files), written here apart from the loader's decoder.
std::string Base64(std::string_view bytes);
// Its inverse, by a table lookup per character (throws std::runtime_error on a bad character).
std::string Base64Decode(std::string_view text);

// Runs a shell command; returns its exit status, and its stdout/stderr in the out parameters.
int RunCommand(const std::string& command, std::string* out, std::string* err);
std::string ShellQuote(const std::string& s);
std::string TempDir();

}  // namespace bpe::test

#include "tests/test_util.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>

#include "algorithms/runtime/file_io.h"
#include "cli/search_paths.h"
#include "corpora/corpus.h"

namespace bpe::test {

// The tests find tiktoken's rank files where the CLI does (the CLI they run sets the same path).
const bool kSearchPathsSet = (cli::UseDefaultSearchPaths(), true);

std::vector<std::string> SmallCorpusNames() {
  std::vector<std::string> names;
  for (const auto& c : LoadManifest()) {
    if (c.files[0].unpacked_sha256.empty()) names.push_back(c.name);
  }
  return names;
}

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci && *ci && std::string_view(ci) != "false";
}

std::vector<std::string> PresentCorpora(const std::vector<std::string>& names) {
  std::vector<std::string> present;
  const auto manifest = LoadManifest();
  for (const auto& name : names) {
    if (MissingCorpusReason(FindCorpus(manifest, name)).empty()) present.push_back(name);
  }
  return present;
}

std::string MissingCorpora(const std::vector<std::string>& names) {
  std::string why;
  const auto manifest = LoadManifest();
  for (const auto& name : names) {
    const std::string reason = MissingCorpusReason(FindCorpus(manifest, name));
    if (!reason.empty()) why += (why.empty() ? "" : "; ") + reason;
  }
  return why;
}

std::string CorpusSlice(const std::string& name, size_t bytes) {
  static std::mutex mu;
  static std::map<std::string, std::string> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, LoadCorpusText(name)).first;
  const std::string& text = it->second;
  if (bytes >= text.size()) return text;
  const size_t nl = text.rfind('\n', bytes);
  return text.substr(0, nl == std::string::npos ? bytes : nl + 1);
}

MergeList TrainReference(const WordCounts& counts, uint32_t vocab_size, uint64_t min_frequency) {
  TrainOptions options;
  options.vocab_size = vocab_size;
  options.min_frequency = min_frequency;
  return FindTrainer(kReferenceTrainer).make()->Train(counts, options).merges;
}

MergeList TrainModel(const WordCounts& counts, uint32_t vocab_size) {
  TrainOptions options;
  options.vocab_size = vocab_size;
  return FindTrainer("linked").make()->Train(counts, options).merges;
}

WordCounts Count(const std::string& text, const std::string& pretokenizer, int threads) {
  return CountWords(text, FindPreTokenizer(pretokenizer).get(), threads);
}

std::vector<TokenId> EncodeWith(const std::string& encoder, const Vocabulary& vocab,
                                const std::string& pretokenizer, std::string_view text) {
  return EncodeText(text, FindPreTokenizer(pretokenizer).get(), FindEncoder(encoder).make, vocab, 1);
}

std::string RandomText(std::mt19937_64& rng, size_t length, const std::string& alphabet) {
  std::string s;
  for (size_t i = 0; i < length; ++i) s += alphabet[rng() % alphabet.size()];
  return s;
}

std::string RandomBytes(std::mt19937_64& rng, size_t length) {
  std::string s;
  for (size_t i = 0; i < length; ++i) s += static_cast<char>(rng() & 0xFF);
  return s;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string TempDir() {
  static const std::string dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bpebench-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) std::abort();
    // The CLI runs of the tests keep their prepared-model cache here, not in the user's own.
    ::setenv("BPEBENCH_CACHE", (tmpl + "/prepared-cache").c_str(), 0);
    // Removed when the test process ends (each test runs in a process of its own under ctest); a
    // forked child leaves through _exit and keeps it.
    static const pid_t owner = ::getpid();
    static std::string to_remove;
    to_remove = tmpl;
    std::atexit([] {
      if (::getpid() == owner) {
        std::error_code ec;
        std::filesystem::remove_all(to_remove, ec);
      }
    });
    return tmpl;
  }();
  return dir;
}

int RunCommand(const std::string& command, std::string* out, std::string* err) {
  static int counter = 0;
  const std::string base = TempDir() + "/cmd" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  const std::string full = command + " >" + base + ".out 2>" + base + ".err";
  const int status = std::system(full.c_str());
  if (out) *out = ReadFile(base + ".out");
  if (err) *err = ReadFile(base + ".err");
  std::filesystem::remove(base + ".out");
  std::filesystem::remove(base + ".err");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

CliResult Cli(const std::string& args, const std::string& prefix) {
  CliResult r;
  r.status = RunCommand(prefix + std::string(BPEBENCH_CLI) + " " + args, &r.out, &r.err);
  return r;
}

void ExpectCliError(const CliResult& r, const std::string& needle, const std::string& what) {
  EXPECT_NE(r.status, 0) << what;
  EXPECT_LT(r.status, 128) << "crashed: " << what << "\n" << r.err;
  EXPECT_EQ(r.out, "") << what;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << "\n" << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << what << "\nstderr: " << r.err;
}

std::string WriteTemp(const std::string& name, const std::string& data) {
  const std::string path = TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << data;
  return path;
}

std::string Base64(std::string_view bytes) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (bytes.size() - i == 1) {
    const uint32_t v = uint8_t(bytes[i]) << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (bytes.size() - i == 2) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

std::string Base64Decode(std::string_view text) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') break;
    const size_t v = alphabet.find(c);
    if (v == std::string::npos) throw std::runtime_error("not base64: " + std::string(text));
    bits = (bits << 6) | static_cast<uint32_t>(v);
    if ((count += 6) >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFF);
    }
  }
  return out;
}

}  // namespace bpe::test

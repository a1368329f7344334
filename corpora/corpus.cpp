#include "corpora/corpus.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <fmt/core.h>

#include "algorithms/core/error.h"
#include "algorithms/runtime/file_io.h"
#include "cli/source_dir.h"
#include "corpora/sha256.h"

extern char** environ;

namespace bpe {
namespace fs = std::filesystem;

namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, '\t')) fields.push_back(field);
  return fields;
}

std::string Where(const CorpusFile& file) { return (fs::path(CorporaFolder()) / file.path).string(); }

// The xz-packed copy of a file that ships with the project (the default corpus), if there is one.
std::string Bundled(const CorpusFile& file) {
  const fs::path packed = fs::path(BundledFolder()) / (file.path + ".xz");
  std::error_code ec;
  return fs::is_regular_file(packed, ec) ? packed.string() : "";
}

std::string Missing(const CorpusFile& file, const std::string& corpus) {
  return fmt::format("corpus '{}': file '{}' is missing (looked in {}; set BPEBENCH_CORPORA to the corpora folder)",
                     corpus, file.path, CorporaFolder());
}

std::string ReadChecked(const std::string& path, const std::string& sha256, const std::string& corpus) {
  std::string data = ReadFile(path);
  const std::string actual = Sha256Hex(data);
  if (actual != sha256) {
    Fail("corpus '{}': file '{}' has sha256 {}, the manifest says {}", corpus, path, actual, sha256);
  }
  return data;
}

// Runs `xz -dc packed > out` without a shell.
void Unxz(const std::string& packed, const std::string& out) {
  const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) Fail("cannot create '{}' to unpack '{}'", out, packed);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fd, STDOUT_FILENO);
  const char* argv[] = {"xz", "-dc", packed.c_str(), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, "xz", &actions, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fd);
  int status = 0;
  if (rc != 0 || ::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fs::remove(out);
    Fail("cannot unpack '{}' with xz (is xz-utils installed?)", packed);
  }
}

// The text of an xz-packed file, unpacked once into `cache` and checked against `text_sha256` on
// every load. `packed_sha256`, when given, is checked before unpacking.
std::string ReadPacked(const std::string& packed, const std::string& packed_sha256, const fs::path& cache,
                       const std::string& text_sha256, const std::string& corpus) {
  std::error_code ec;
  if (fs::exists(cache, ec)) {
    std::string data = ReadFile(cache.string());
    if (Sha256Hex(data) == text_sha256) return data;
    fs::remove(cache, ec);  // stale or damaged: unpack again
  }
  if (!packed_sha256.empty()) ReadChecked(packed, packed_sha256, corpus);
  fs::create_directories(cache.parent_path(), ec);
  if (ec) Fail("cannot create the cache folder '{}': {}", cache.parent_path().string(), ec.message());
  const std::string tmp = cache.string() + ".tmp." + std::to_string(::getpid());
  std::fprintf(stderr, "unpacking %s into %s (once)\n", packed.c_str(), cache.c_str());
  Unxz(packed, tmp);
  std::string data = ReadFile(tmp);
  if (Sha256Hex(data) != text_sha256) {
    fs::remove(tmp, ec);
    Fail("corpus '{}': '{}' unpacks to text whose sha256 is not the manifest's", corpus, packed);
  }
  fs::rename(tmp, cache, ec);
  return data;
}

// Where a corpus file is read from: the corpora folder, else its bundled copy (for a file that is
// not packed there); kMissing when neither is here.
enum class Source { kFolder, kBundled, kMissing };
Source SourceOf(const CorpusFile& file) {
  std::error_code ec;
  if (fs::exists(Where(file), ec)) return Source::kFolder;
  if (file.unpacked_sha256.empty() && !Bundled(file).empty()) return Source::kBundled;
  return Source::kMissing;
}

std::string ReadFileOfCorpus(const CorpusFile& file, const std::string& corpus) {
  switch (SourceOf(file)) {
    case Source::kFolder:
      if (file.unpacked_sha256.empty()) return ReadChecked(Where(file), file.sha256, corpus);
      return ReadPacked(Where(file), file.sha256, fs::path(CacheFolder()) / fs::path(file.path).stem(),
                        file.unpacked_sha256, corpus);
    case Source::kBundled:
      return ReadPacked(Bundled(file), "", fs::path(CacheFolder()) / "bundled" / file.path, file.sha256, corpus);
    case Source::kMissing:
      break;
  }
  Fail("{}", Missing(file, corpus));
}

}  // namespace

uint64_t CorpusInfo::bytes() const {
  uint64_t total = 0;
  for (const auto& f : files) total += f.bytes;
  return total;
}

std::string CorporaFolder() {
  return EnvOr("BPEBENCH_CORPORA", (fs::path(SourceDir()) / ".." / "shared" / "corpora")
                                       .lexically_normal()
                                       .string());
}
std::string BundledFolder() { return (fs::path(SourceDir()) / "corpora" / "bundled").string(); }
std::string ManifestPath() {
  return EnvOr("BPEBENCH_MANIFEST", (fs::path(SourceDir()) / "corpora" / "manifest.tsv").string());
}
std::string CacheFolder() {
  const char* home = std::getenv("HOME");
  const std::string xdg = EnvOr("XDG_CACHE_HOME", home ? std::string(home) + "/.cache" : "/tmp");
  return EnvOr("BPEBENCH_CACHE", xdg + "/bpebench");
}

std::vector<CorpusInfo> LoadManifest() {
  const std::string path = ManifestPath();
  std::stringstream in(ReadFile(path, uint64_t{16} << 20, "a corpus manifest"));
  std::vector<CorpusInfo> corpora;
  std::string line;
  bool header = false;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    auto f = SplitTabs(line);
    if (!header) {
      if (f.size() < 7 || f[0] != "corpus") Fail("{}:{}: expected the column header", path, n);
      header = true;
      continue;
    }
    if (f.size() != 7) Fail("{}:{}: expected 7 tab-separated fields, found {}", path, n, f.size());
    uint64_t bytes = 0;
    auto [end, ec] = std::from_chars(f[2].data(), f[2].data() + f[2].size(), bytes);
    if (ec != std::errc() || end != f[2].data() + f[2].size()) {
      Fail("{}:{}: the size '{}' is not a number", path, n, f[2]);
    }
    if (f[3].size() != 64) Fail("{}:{}: '{}' is not a sha256", path, n, f[3]);
    if (corpora.empty() || corpora.back().name != f[0]) corpora.push_back({f[0], {}});
    corpora.back().files.push_back({f[1], bytes, f[3], f[4] == "-" ? "" : f[4], f[5], f[6]});
  }
  if (corpora.empty()) Fail("{}: the corpus manifest lists no corpora", path);
  return corpora;
}

const CorpusInfo& FindCorpus(const std::vector<CorpusInfo>& manifest, const std::string& name) {
  std::string known;
  for (const auto& c : manifest) {
    if (c.name == name) return c;
    known += (known.empty() ? "" : ", ") + c.name;
  }
  Fail("unknown corpus '{}' (known: {})", name, known);
}

std::string LoadCorpusText(const CorpusInfo& corpus) {
  std::string text;
  for (const auto& file : corpus.files) text += ReadFileOfCorpus(file, corpus.name);
  return text;
}

std::string MissingCorpusReason(const CorpusInfo& corpus) {
  for (const auto& file : corpus.files) {
    if (SourceOf(file) == Source::kMissing) return Missing(file, corpus.name);
  }
  return "";
}

std::string LoadCorpusText(const std::string& name) {
  return LoadCorpusText(FindCorpus(LoadManifest(), name));
}

}  // namespace bpe

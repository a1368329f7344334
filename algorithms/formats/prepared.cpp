#include "algorithms/formats/prepared.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <type_traits>

#include <fmt/core.h>

#include "algorithms/core/error.h"
#include "algorithms/encoders/backtrack.h"
#include "algorithms/formats/tiktoken.h"
#include "algorithms/registry.h"
#include "algorithms/runtime/file_io.h"
#include "algorithms/runtime/flat_arrays.h"
#include "algorithms/runtime/hash.h"

namespace bpe {
namespace {

constexpr char kMagic[8] = {'b', 'p', 'e', 'p', 'r', 'e', 'p', '\n'};

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t header_bytes;  // sizeof(Header): a build with other records reads its own files only
  uint64_t key;
  uint64_t reserved;
  uint64_t payload_bytes;
  uint64_t payload_hash;
};
static_assert(std::is_trivially_copyable_v<Header> && sizeof(Header) == 48);

using flat::GetBytes;
using flat::PutBytes;

// A file name from the source's: its stem, in safe characters, at most 40 of them.
std::string SafeStem(const std::string& path) {
  std::string stem = std::filesystem::path(path).stem().string();
  std::string out;
  for (char c : stem) {
    if (out.size() == 40) break;
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    out += safe ? c : '_';
  }
  return out.empty() || out[0] == '.' ? "model" + out : out;
}

void AppendPayload(std::string& out, const PreparedModel& m, const Vocabulary& v) {
  PutBytes(out, m.pretokenizer);
  PutBytes(out, std::string_view(reinterpret_cast<const char*>(m.external_ids.data()), 4 * m.external_ids.size()));
  PutBytes(out, v.Save());
  PutBytes(out, SaveBacktrackTables(v));
}

// The model and vocabulary from a payload whose checksum matched; false when it does not hold
// together (a file written by something else, or crafted).
bool FromPayload(std::string_view in, std::shared_ptr<const void> mapping, PreparedModel& p) {
  std::string_view pretokenizer, external_ids, vocab_bytes, tables;
  if (!GetBytes(in, pretokenizer) || !GetBytes(in, external_ids) || !GetBytes(in, vocab_bytes) ||
      !GetBytes(in, tables) || !in.empty() || external_ids.size() % 4 != 0 ||
      reinterpret_cast<uintptr_t>(external_ids.data()) % 4 != 0) {
    return false;
  }
  p.pretokenizer = std::string(pretokenizer);
  try {
    FindPreTokenizer(p.pretokenizer);
  } catch (const Error&) {
    return false;
  }
  p.vocab = Vocabulary::Load(vocab_bytes, mapping);
  if (!p.vocab) return false;
  p.external_ids = std::span<const uint32_t>(reinterpret_cast<const uint32_t*>(external_ids.data()), external_ids.size() / 4);
  if (!p.external_ids.empty()) {
    // One id each, below a bound that keeps InternalIds' table small (distinct: see InternalIds).
    if (p.external_ids.size() != p.vocab->size()) return false;
    const size_t limit = 2 * p.vocab->size() + 65536;
    for (uint32_t id : p.external_ids) {
      if (id >= limit) return false;
    }
  }
  if (!LoadBacktrackTables(*p.vocab, tables, mapping)) return false;
  p.mapping = std::move(mapping);
  return true;
}

// Writes a cache file: to a temporary file in the folder (mkstemp: a new file, never through a
// link), renamed over `file`, which replaces whatever entry is there (a link or a FIFO planted there
// is replaced, never followed or written to). "" on success, else the reason. A process killed in
// between leaves its temporary file (*.tmp-XXXXXX), which no reader ever opens.
std::string WriteCacheFile(const std::string& dir, const std::string& file, std::string_view bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fmt::format("cannot make the folder {}: {}", dir, ec.message());
  std::string tmp = file + ".tmp-XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return fmt::format("cannot create a file in {}: {}", dir, std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += static_cast<size_t>(w);
  }
  const int write_errno = done == bytes.size() ? 0 : (errno ? errno : EIO);
  if (::close(fd) != 0 || write_errno != 0 || ::rename(tmp.c_str(), file.c_str()) != 0) {
    const int e = write_errno ? write_errno : errno;
    ::unlink(tmp.c_str());
    return fmt::format("cannot write {}: {}", file, std::strerror(e));
  }
  return "";
}

}  // namespace

std::string PreparedCacheDir() {
  if (const char* dir = std::getenv("BPEBENCH_CACHE")) {
    const std::string d = dir;
    return d == "off" ? "" : d;
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/bpebench";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/bpebench";
  return "";
}

std::vector<TokenId> PreparedModel::InternalIds() const { return bpe::InternalIds(external_ids, vocab->size()); }

PreparedModel LoadPreparedModel(const std::string& spec, std::string_view pretokenizer, const std::string& cache_dir) {
  PreparedModel p;
  std::string file;
  uint64_t key = 0;
  // The file spec names: a tiktoken vocabulary's rank file on the search path, else spec itself.
  std::error_code ec;
  const bool tiktoken_name = IsTiktokenName(spec) && !std::filesystem::exists(spec, ec);
  const std::string path = tiktoken_name ? FindTiktokenFile(spec) : spec;
  struct stat st;
  if (!cache_dir.empty() && !path.empty() && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    std::error_code ec2;
    const std::string absolute = std::filesystem::absolute(path, ec2).string();
    const std::string id = fmt::format(
        "{}\n{}\n{}\n{}\n{} {} {} {}.{} {}.{}", kPreparedFormatVersion, pretokenizer, tiktoken_name, absolute,
        static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
        static_cast<int64_t>(st.st_mtim.tv_sec), static_cast<int64_t>(st.st_mtim.tv_nsec),
        static_cast<int64_t>(st.st_ctim.tv_sec), static_cast<int64_t>(st.st_ctim.tv_nsec));
    key = Hash64(id);
    file = fmt::format("{}/{}-{:016x}.prepared", cache_dir, SafeStem(path), key);
    if (const auto mapped = MapRegularFile(file, uint64_t{1} << 32)) {
      const std::string_view bytes = *mapped;
      Header h;
      const bool whole = bytes.size() >= sizeof h && (std::memcpy(&h, bytes.data(), sizeof h), true) &&
                         std::memcmp(h.magic, kMagic, sizeof kMagic) == 0 && h.version == kPreparedFormatVersion &&
                         h.header_bytes == sizeof h && h.key == key && h.payload_bytes == bytes.size() - sizeof h &&
                         h.payload_hash == Hash64(bytes.substr(sizeof h));
      if (whole && FromPayload(bytes.substr(sizeof h), mapped, p)) {
        p.cache = PreparedModel::Cache::kHit;
        p.cache_file = file;
        return p;
      }
      p = PreparedModel{};
      p.note = fmt::format("the prepared-model cache file {} is damaged or not this build's: rebuilt", file);
    }
  }
  Model model = LoadAnyModel(spec, pretokenizer);
  p.pretokenizer = model.pretokenizer;
  p.external_ids_own = std::move(model.external_ids);
  p.external_ids = p.external_ids_own;
  p.vocab = std::make_unique<Vocabulary>(std::move(model.merges));
  if (file.empty()) return p;
  if (p.vocab->merges().size() < kPreparedMinMerges) {
    p.cache = PreparedModel::Cache::kSmall;
    return p;
  }
  // The header, then the payload after it in the same string (no second copy of tens of MB); the
  // header's length and checksum are filled in once the payload is there.
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.version = kPreparedFormatVersion;
  h.header_bytes = sizeof h;
  h.key = key;
  std::string bytes(sizeof h, '\0');
  AppendPayload(bytes, p, *p.vocab);
  const std::string_view payload = std::string_view(bytes).substr(sizeof h);
  h.payload_bytes = payload.size();
  h.payload_hash = Hash64(payload);
  std::memcpy(bytes.data(), &h, sizeof h);
  if (std::string error = WriteCacheFile(cache_dir, file, bytes); error.empty()) {
    p.cache = PreparedModel::Cache::kBuilt;
    p.cache_file = file;
  } else {
    p.cache = PreparedModel::Cache::kNotWritten;
    p.note = fmt::format("the prepared-model cache was not written ({}); set BPEBENCH_CACHE to a writable folder, "
                         "or to off", error);
  }
  return p;
}

}  // namespace bpe

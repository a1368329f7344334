#include "algorithms/runtime/file_io.h"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <csignal>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "algorithms/core/error.h"

namespace bpe {

namespace {

// The temporary file WriteFileAtomically is writing, for the signal handler to remove. A fixed
// buffer and a flag, because a handler may only touch lock-free atomics and plain memory.
char pending_tmp[4096];
std::atomic<bool> has_pending{false};

extern "C" void CleanupAndDie(int sig) {
  if (has_pending.load()) ::unlink(pending_tmp);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

void InstallSignalCleanup() {
  // A signal ignored on entry stays ignored (nohup's SIGHUP, a background job's SIGINT).
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    if (std::signal(sig, CleanupAndDie) == SIG_IGN) std::signal(sig, SIG_IGN);
  }
  std::signal(SIGXFSZ, SIG_IGN);
}

void ReadFileInBlocks(const std::string& path, size_t block,
                      const std::function<void(std::string_view)>& fn) {
  const bool is_stdin = path == "-";
  if (!is_stdin) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) Fail("'{}' is a directory, not a file", path);
  }
  // Closes the file on every way out, fn's exceptions included; standard input stays open.
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(
      is_stdin ? stdin : std::fopen(path.c_str(), "rb"), is_stdin ? [](std::FILE*) { return 0; } : std::fclose);
  if (!file) Fail("cannot open '{}': {}", path, std::strerror(errno));
  // Not zero-filled: only the pages fread writes are touched (a 3 MB file costs 3 MB of page faults,
  // not the whole block's).
  const auto buffer = std::make_unique_for_overwrite<char[]>(block);
  size_t got;
  while ((got = std::fread(buffer.get(), 1, block, file.get())) > 0) fn({buffer.get(), got});
  if (std::ferror(file.get())) {
    Fail("cannot read {}: {}", is_stdin ? "standard input" : "'" + path + "'", std::strerror(errno));
  }
}

std::string ReadFile(const std::string& path) {
  std::string data;
  ReadFileInBlocks(path, 1 << 16, [&](std::string_view bytes) { data.append(bytes); });
  return data;
}

uint64_t PeakRssBytes() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports kilobytes
}

void WriteFileAtomically(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  if (tmp.size() >= sizeof pending_tmp) Fail("cannot write '{}': the path is too long", path);
  std::memcpy(pending_tmp, tmp.c_str(), tmp.size() + 1);
  has_pending = true;
  struct Clear {
    ~Clear() { has_pending = false; }
  } clear;
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) Fail("cannot write '{}': {}", path, std::strerror(errno));
  const bool written = std::fwrite(data.data(), 1, data.size(), f) == data.size();
  const bool flushed = std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const int saved_errno = errno;
  std::fclose(f);
  if (!written || !flushed) {
    std::remove(tmp.c_str());
    Fail("cannot write '{}': {}", path, std::strerror(saved_errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    Fail("cannot write '{}': {}", path, std::strerror(e));
  }
}

}  // namespace bpe

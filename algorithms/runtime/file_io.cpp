#include "algorithms/runtime/file_io.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/stat.h>
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
// What the handler says on stderr before the process ends (InstallSignalCleanup's `announce`).
char announce_text[256];
size_t announce_size = 0;

extern "C" void CleanupAndDie(int sig) {
  if (has_pending.load()) ::unlink(pending_tmp);
  if (announce_size) [[maybe_unused]] auto n = ::write(STDERR_FILENO, announce_text, announce_size);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

void InstallSignalCleanup(std::string_view announce) {
  announce_size = std::min(announce.size(), sizeof announce_text);
  std::memcpy(announce_text, announce.data(), announce_size);
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

namespace {
struct StopReading {};
}  // namespace

std::string ReadFile(const std::string& path) { return ReadFile(path, UINT64_MAX, "a file"); }

std::string ReadFile(const std::string& path, uint64_t max_bytes, std::string_view what) {
  std::string data;
  try {
    ReadFileInBlocks(path, 1 << 16, [&](std::string_view bytes) {
      data.append(bytes);
      if (data.size() > max_bytes) throw StopReading{};
    });
  } catch (const StopReading&) {
    Fail("'{}' is larger than {} bytes: not {}", path, max_bytes, what);
  }
  return data;
}

std::string ReadFilePrefix(const std::string& path, size_t bytes) {
  std::string data;
  try {
    ReadFileInBlocks(path, std::min<size_t>(bytes, 1 << 16), [&](std::string_view block) {
      data.append(block.substr(0, bytes - data.size()));
      if (data.size() >= bytes) throw StopReading{};
    });
  } catch (const StopReading&) {
  }
  return data;
}

std::shared_ptr<const std::string_view> MapRegularFile(const std::string& path, uint64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st;
  void* map = MAP_FAILED;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && static_cast<uint64_t>(st.st_size) <= max_bytes) {
    map = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  }
  ::close(fd);
  if (map == MAP_FAILED) return nullptr;
  const size_t size = static_cast<size_t>(st.st_size);
  return std::shared_ptr<const std::string_view>(new std::string_view(static_cast<const char*>(map), size),
                                                 [size](const std::string_view* v) {
                                                   ::munmap(const_cast<char*>(v->data()), size);
                                                   delete v;
                                                 });
}

uint64_t PeakRssBytes() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports kilobytes
}

namespace {

std::string Parent(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

void CheckFolder(const std::string& path, const std::string& target) {
  const std::string folder = Parent(target);
  struct stat st {};
  if (::stat(folder.c_str(), &st) != 0) {
    Fail("cannot write '{}': the folder '{}' does not exist", path, folder);
  }
  if (!S_ISDIR(st.st_mode)) Fail("cannot write '{}': '{}' is not a folder", path, folder);
  if (::access(folder.c_str(), W_OK | X_OK) != 0) {
    Fail("cannot write '{}': the folder '{}' is not writable ({})", path, folder, std::strerror(errno));
  }
}

bool SameFile(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

// Writes all of data to fd; false with errno set on a failure.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

OutputFile::OutputFile(const std::string& path, const std::vector<std::string>& inputs, bool stdout_ok)
    : path_(path), target_(path) {
  if (path.empty()) Fail("the output file name is empty");
  if (path == "-") {
    if (!stdout_ok) Fail("this command cannot write its output to standard output (-)");
    kind_ = Kind::kStdout;
    return;
  }
  struct stat st {};
  bool exists = ::lstat(path.c_str(), &st) == 0;
  if (!exists && errno != ENOENT) Fail("cannot write '{}': {}", path, std::strerror(errno));
  if (exists && S_ISLNK(st.st_mode)) {
    std::error_code ec;
    const std::filesystem::path resolved = std::filesystem::canonical(path, ec);
    if (ec) Fail("cannot write '{}': it is a symbolic link to a file that does not exist", path);
    target_ = resolved.string();
    if (::stat(target_.c_str(), &st) != 0) Fail("cannot write '{}': {}", path, std::strerror(errno));
  }
  if (exists) {
    if (S_ISDIR(st.st_mode)) Fail("cannot write '{}': it is a directory", path);
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
      kind_ = Kind::kStream;
    } else if (!S_ISREG(st.st_mode)) {
      Fail("cannot write '{}': it is not a regular file, a character device or a FIFO", path);
    } else if ((st.st_mode & 0222) == 0) {
      Fail("cannot write '{}': the file is read-only", path);
    } else if (::access(target_.c_str(), W_OK) != 0) {
      Fail("cannot write '{}': {}", path, std::strerror(errno));
    }
    for (const std::string& input : inputs) {
      struct stat in {};
      if (input != "-" && ::stat(input.c_str(), &in) == 0 && SameFile(in, st) && kind_ != Kind::kStream) {
        Fail("the output '{}' is the input file '{}': refusing to overwrite it", path, input);
      }
    }
    mode_ = st.st_mode & 07777;
  } else {
    const mode_t mask = ::umask(0);  // read it: mkstemp makes 0600, a new file gets 0666 less the mask
    ::umask(mask);
    mode_ = 0666 & ~mask;
  }
  if (kind_ == Kind::kReplace) CheckFolder(path, target_);
}

void OutputFile::Write(std::string_view data) const {
  if (kind_ == Kind::kStdout) {
    WriteStdout(data, "the output");
    return;
  }
  OutputStream stream(*this);
  stream.Write(data);
  stream.Commit();
}

OutputStream::OutputStream(const OutputFile& file) : file_(file) {
  using Kind = OutputFile::Kind;
  if (file.kind_ == Kind::kStdout) return;
  if (file.kind_ == Kind::kStream) {
    fd_ = ::open(file.target_.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd_ < 0) Fail("cannot write '{}': {}", file.path_, std::strerror(errno));
    return;
  }
  std::string tmp = Parent(file.target_) + "/.bpebench-XXXXXX";
  if (tmp.size() >= sizeof pending_tmp) Fail("cannot write '{}': the path is too long", file.path_);
  if (has_pending.load()) Fail("cannot write '{}': another output is being written", file.path_);
  // The cleanup signals wait while the file is made and its name recorded for their handler.
  sigset_t cleanup_signals, old_mask;
  sigemptyset(&cleanup_signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&cleanup_signals, sig);
  ::pthread_sigmask(SIG_BLOCK, &cleanup_signals, &old_mask);
  const int fd = ::mkstemp(tmp.data());
  const int mkstemp_errno = errno;
  if (fd >= 0) {
    std::memcpy(pending_tmp, tmp.c_str(), tmp.size() + 1);
    has_pending = true;
  }
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  if (fd < 0) Fail("cannot write '{}': {}", file.path_, std::strerror(mkstemp_errno));
  fd_ = fd;
  tmp_ = tmp;
  if (::fchmod(fd_, static_cast<mode_t>(file.mode_)) != 0) Failed(errno);
}

OutputStream::~OutputStream() {
  if (fd_ >= 0) ::close(fd_);
  if (!tmp_.empty() && !committed_) {
    ::unlink(tmp_.c_str());
    has_pending = false;
  }
}

void OutputStream::Failed(int error) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!tmp_.empty()) {
    ::unlink(tmp_.c_str());
    has_pending = false;
    tmp_.clear();
  }
  Fail("cannot write '{}': {}", file_.path_, std::strerror(error));
}

void OutputStream::Write(std::string_view data) {
  if (file_.kind_ == OutputFile::Kind::kStdout) {
    WriteStdout(data, "the output");
  } else if (!WriteAll(fd_, data)) {
    Failed(errno);
  }
  bytes_ += data.size();
}

void OutputStream::WriteAt(uint64_t offset, std::string_view data) {
  if (!file_.seekable()) Fail("cannot write '{}' out of order: it is not a regular file", file_.path_);
  for (size_t done = 0; done < data.size();) {
    const ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) Failed(n < 0 ? errno : EIO);
    done += static_cast<size_t>(n);
  }
}

void OutputStream::Commit() {
  if (file_.kind_ == OutputFile::Kind::kStdout) return;
  if (file_.kind_ == OutputFile::Kind::kStream) {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) Failed(errno);
    committed_ = true;
    return;
  }
  if (::fsync(fd_) != 0) Failed(errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) Failed(errno);
  if (std::rename(tmp_.c_str(), file_.target_.c_str()) != 0) Failed(errno);
  committed_ = true;
  has_pending = false;
}

void WriteFileAtomically(const std::string& path, std::string_view data) { OutputFile(path, {}, false).Write(data); }

void WriteStdout(std::string_view data, std::string_view what) {
  if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size() || std::fflush(stdout) != 0) {
    Fail("cannot write {} to standard output: {}", what, std::strerror(errno));
  }
}

}  // namespace bpe

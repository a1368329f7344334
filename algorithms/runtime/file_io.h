// File helpers with the error messages users should see: which file, and what is wrong with it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bpe {

// Reads a whole file ("-" is standard input). Throws bpe::Error for a missing, unreadable or
// directory path.
std::string ReadFile(const std::string& path);
// The same, but a file larger than max_bytes is an error ("'x' is larger than N bytes: not <what>")
// found after reading max_bytes + 1 bytes, not the whole file (/dev/zero, say).
std::string ReadFile(const std::string& path, uint64_t max_bytes, std::string_view what);
// At most the first `bytes` bytes of a file.
std::string ReadFilePrefix(const std::string& path, size_t bytes);

// Where a command writes its output, checked when it is made, before any work, so that a path that
// cannot be written fails at once rather than after minutes of training:
//   "-"                   standard output, where the command allows it (an error otherwise);
//   absent, or a regular file
//                         written to a temporary file in the same folder (a unique, unpredictable
//                         name made with mkstemp: opened exclusively, never through a link; short,
//                         so it never makes a valid name too long) and renamed into place, so readers
//                         never see a partial file; a replaced file keeps its permission bits. The
//                         folder must exist and be writable, and an existing file must be writable
//                         (a read-only file is refused, also for root);
//   a character device or a FIFO (/dev/null, a pipe)
//                         written straight to: it is never replaced;
//   a symbolic link       written through to the file it names, by the rules above (a dangling
//                         link is refused);
//   a directory, a block device or a socket
//                         refused.
// An output that is the same file (device and inode) as one of `inputs` is refused.
// Write throws bpe::Error with the system's reason when the write fails (a full disk, say); the
// temporary file is removed then, and also when SIGINT, SIGTERM or SIGHUP arrives while it is being
// written (see InstallSignalCleanup).
class OutputFile {
 public:
  OutputFile(const std::string& path, const std::vector<std::string>& inputs, bool stdout_ok);
  void Write(std::string_view data) const;  // the whole output at once
  const std::string& path() const { return path_; }
  bool is_stdout() const { return kind_ == Kind::kStdout; }
  // A regular file (replaced on commit), where an output can go back to fill in a header.
  bool seekable() const { return kind_ == Kind::kReplace; }

 private:
  friend class OutputStream;
  enum class Kind { kStdout, kStream, kReplace };
  std::string path_;    // as given, for messages
  std::string target_;  // what is written: the path, or the file its link names
  Kind kind_ = Kind::kReplace;
  unsigned mode_ = 0;   // permission bits of the file that replaces target_
};

// An output written in parts, for outputs too large to hold: the same rules as OutputFile::Write.
// A regular file is written to its temporary file and renamed into place by Commit() only, so a
// run that fails or is interrupted leaves no partial file (the destructor of an uncommitted stream
// removes the temporary file; the signal handlers do too). One stream at a time per process.
class OutputStream {
 public:
  explicit OutputStream(const OutputFile& file);
  ~OutputStream();
  OutputStream(const OutputStream&) = delete;
  OutputStream& operator=(const OutputStream&) = delete;
  void Write(std::string_view data);
  // Overwrites bytes already written at `offset` (a header whose length was not known at the start).
  // Only for a seekable() output.
  void WriteAt(uint64_t offset, std::string_view data);
  void Commit();
  uint64_t bytes() const { return bytes_; }

 private:
  [[noreturn]] void Failed(int error);

  const OutputFile& file_;
  int fd_ = -1;
  std::string tmp_;
  uint64_t bytes_ = 0;
  bool committed_ = false;
};

// OutputFile(path, {}, false).Write(data).
void WriteFileAtomically(const std::string& path, std::string_view data);

// Writes to standard output; a failure is a bpe::Error that names `what` and the system's reason.
void WriteStdout(std::string_view data, std::string_view what);

// Installs handlers for SIGINT, SIGTERM and SIGHUP that remove a temporary file being written by
// WriteFileAtomically and then die of the same signal (so the exit status still says which), and
// ignores SIGXFSZ so that a file size limit is a write error with a message, not a silent kill.
// `announce` (at most 256 bytes) is written to stderr by the handler before the process ends.
void InstallSignalCleanup(std::string_view announce = "");

// Reads a file (or standard input for "-") in blocks of `block` bytes, calling fn(bytes) for each;
// never holds more than one block. Throws bpe::Error like ReadFile.
void ReadFileInBlocks(const std::string& path, size_t block,
                      const std::function<void(std::string_view)>& fn);

// A regular file of 1..max_bytes bytes mapped read-only, its pages populated up front (one call
// instead of a page fault per 4 KiB); nullptr for anything else: missing, empty, too large, or a
// FIFO or device (opened without blocking, never read). The file must not be truncated while mapped
// (reading past its new end is SIGBUS): for files replaced by rename only, such as cache files.
std::shared_ptr<const std::string_view> MapRegularFile(const std::string& path, uint64_t max_bytes);

// Peak resident set size of this process so far, in bytes.
uint64_t PeakRssBytes();

}  // namespace bpe

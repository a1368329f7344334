// File helpers with the error messages users should see: which file, and what is wrong with it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace bpe {

// Reads a whole file ("-" is standard input). Throws bpe::Error for a missing, unreadable or
// directory path.
std::string ReadFile(const std::string& path);

// Writes data to a temporary file in the same folder, then renames it over path, so readers never
// see a partial file. Throws bpe::Error when the folder is not writable or the disk is full; the
// temporary file is removed then, and also when SIGINT, SIGTERM or SIGHUP arrives while it is being
// written (see InstallSignalCleanup).
void WriteFileAtomically(const std::string& path, std::string_view data);

// Installs handlers for SIGINT, SIGTERM and SIGHUP that remove a temporary file being written by
// WriteFileAtomically and then die of the same signal (so the exit status still says which), and
// ignores SIGXFSZ so that a file size limit is a write error with a message, not a silent kill.
void InstallSignalCleanup();

// Reads a file (or standard input for "-") in blocks of `block` bytes, calling fn(bytes) for each;
// never holds more than one block. Throws bpe::Error like ReadFile.
void ReadFileInBlocks(const std::string& path, size_t block,
                      const std::function<void(std::string_view)>& fn);

// Peak resident set size of this process so far, in bytes.
uint64_t PeakRssBytes();

}  // namespace bpe

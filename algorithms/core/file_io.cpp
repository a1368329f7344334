#include "algorithms/core/file_io.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <iterator>

#include "algorithms/core/error.h"

namespace bpe {

std::string ReadFile(const std::string& path) {
  if (path == "-") {
    std::string data((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (std::cin.bad()) Fail("cannot read standard input");
    return data;
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) Fail("'{}' is a directory, not a file", path);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) Fail("cannot open '{}': {}", path, std::strerror(errno));
  std::string data;
  char buffer[1 << 16];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof buffer, f)) > 0) data.append(buffer, got);
  const bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) Fail("cannot read '{}'", path);
  return data;
}

void WriteFileAtomically(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
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

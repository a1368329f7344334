#include "cli/input.h"

#include <cstring>

#include "algorithms/core/error.h"
#include "algorithms/pretokenizers/unicode.h"
#include "algorithms/runtime/file_io.h"

namespace bpe::cli {

void StreamCheck::Add(std::string_view block) {
  if (binary_) return;
  const uint64_t base = offset_ - held_.size();  // offset of block[0] once held_ is put in front
  offset_ += block.size();
  std::string joined;
  if (!held_.empty()) {
    joined = held_ + std::string(block);
    block = joined;
  }
  size_t end = block.size();
  // A lead byte near the end whose continuation bytes have not arrived yet.
  for (size_t back = 1; back <= 3 && back <= block.size(); ++back) {
    const auto b = static_cast<uint8_t>(block[block.size() - back]);
    if ((b & 0xC0) == 0x80) continue;
    const size_t need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    if (need > back) end = block.size() - back;
    break;
  }
  if (const void* nul = std::memchr(block.data(), 0, block.size())) {
    Fail("{}: looks like a binary file (NUL byte at offset {}); use {} to accept it", source_,
         base + (static_cast<const char*>(nul) - block.data()), accept_);
  }
  if (size_t bad = unicode::FirstInvalidUtf8(block.substr(0, end)); bad < end) {
    Fail("{}: invalid UTF-8 at byte offset {}; use {} to accept it", source_, base + bad, accept_);
  }
  held_ = std::string(block.substr(end));
}

void StreamCheck::Finish() {
  if (!binary_ && !held_.empty()) {
    Fail("{}: invalid UTF-8 at byte offset {}; use {} to accept it", source_,
         offset_ - held_.size(), accept_);
  }
}

void CountFiles(const std::vector<std::string>& files, bool binary, WordCounter& counter,
                const std::function<void()>& after_block, const std::string& accept) {
  for (const std::string& f : files) {
    StreamCheck check(f == "-" ? "standard input" : f, binary, accept);
    ReadFileInBlocks(f, kReadBlock, [&](std::string_view block) {
      check.Add(block);
      counter.Add(block);
      if (after_block) after_block();
    });
    check.Finish();
  }
}

}  // namespace bpe::cli

// Reading text input as the programs (bpebench, the Python module) do: checked as it streams in,
// with the same error messages wherever it is read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "algorithms/runtime/text.h"

namespace bpe::cli {

// Training and counting input is read and counted in blocks of this size: memory holds one block,
// not the text.
inline constexpr size_t kReadBlock = size_t{16} << 20;

// Text input must be UTF-8 without NUL bytes unless `binary`: a binary file passed by mistake
// should not silently become a tokenizer. The file may arrive in blocks: a UTF-8 sequence cut by a
// block boundary is held back (at most 3 bytes) and checked with the next block; offsets count from
// the start of the file. Errors (bpe::Error) name `source` and say how to accept such input
// (`accept`: the CLI's --binary, the Python module's binary=True).
class StreamCheck {
 public:
  StreamCheck(std::string source, bool binary, std::string accept = "--binary")
      : source_(std::move(source)), binary_(binary), accept_(std::move(accept)) {}
  void Add(std::string_view block);
  void Finish();

 private:
  std::string source_;
  bool binary_;
  std::string accept_;
  std::string held_;     // the start of a UTF-8 sequence cut by the end of the last block
  uint64_t offset_ = 0;  // bytes of the file seen so far
};

// Counts FILEs ("-": standard input), joined in order, into `counter` as they stream in, each block
// checked by a StreamCheck (unless `binary`; `accept` as there); `after_block` (when set) is called
// after each block.
void CountFiles(const std::vector<std::string>& files, bool binary, WordCounter& counter,
                const std::function<void()>& after_block = {}, const std::string& accept = "--binary");

}  // namespace bpe::cli

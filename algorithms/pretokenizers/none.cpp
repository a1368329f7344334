// `none`: each line, with its newline, is one piece (a final line without a newline is a piece too).
// This gives long pieces: the worst case for encoders whose cost grows faster than linearly.
#include <cstring>

#include "algorithms/core/pretokenizer.h"

namespace bpe {
namespace {

class Lines final : public PreTokenizer {
 public:
  size_t PieceEnd(std::string_view text, size_t begin) const override {
    const void* nl = std::memchr(text.data() + begin, '\n', text.size() - begin);
    return nl ? static_cast<size_t>(static_cast<const char*>(nl) - text.data()) + 1 : text.size();
  }

  size_t SafeBoundary(std::string_view text, size_t hint) const override {
    if (hint == 0) return 0;
    if (hint >= text.size()) return text.size();
    if (text[hint - 1] == '\n') return hint;
    return PieceEnd(text, hint);
  }
};

}  // namespace

const PreTokenizer& NonePreTokenizer() {
  static const Lines instance;
  return instance;
}

}  // namespace bpe

// `whitespace`: a piece is a run of ASCII whitespace followed by a run of anything else, so the
// whitespace before a word stays attached to it ("Hello", " world", "\n\nNext"); trailing
// whitespace at the end of the text is a piece of its own. Only the six ASCII whitespace bytes
// count as space: the split is byte-level and never needs to decode UTF-8.
#include "algorithms/core/pretokenizer.h"

namespace bpe {
namespace {

class Whitespace final : public PreTokenizer {
 public:
  size_t PieceEnd(std::string_view text, size_t begin) const override {
    size_t i = begin;
    while (i < text.size() && IsAsciiSpace(text[i])) ++i;
    while (i < text.size() && !IsAsciiSpace(text[i])) ++i;
    return i;
  }

  // A piece ends exactly where a non-space byte is followed by a space byte.
  size_t SafeBoundary(std::string_view text, size_t hint) const override {
    for (size_t p = hint < 1 ? 1 : hint; p < text.size(); ++p) {
      if (IsAsciiSpace(text[p]) && !IsAsciiSpace(text[p - 1])) return p;
    }
    return text.size();
  }
};

}  // namespace

const PreTokenizer& WhitespacePreTokenizer() {
  static const Whitespace instance;
  return instance;
}

}  // namespace bpe

// A pre-tokenizer splits text into pieces; no merge crosses a piece. Pieces always concatenate back
// to the input, for every byte string (invalid UTF-8 included), so decode(encode(x)) == x.
#pragma once

#include <string_view>

namespace bpe {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;

  // End of the piece that starts at begin (begin < text.size()); always > begin.
  virtual size_t PieceEnd(std::string_view text, size_t begin) const = 0;

  // The first position p >= hint at which a piece starts whatever text comes before p and however
  // the text continues after it, so text[0, p) and text[p, n) can be split independently (by
  // threads, or across reads of a stream). Returns text.size() when there is none.
  virtual size_t SafeBoundary(std::string_view text, size_t hint) const = 0;

  // Calls fn(piece) for every piece of text, in order.
  template <typename Fn>
  void ForEachPiece(std::string_view text, Fn&& fn) const {
    for (size_t i = 0; i < text.size();) {
      const size_t end = PieceEnd(text, i);
      fn(text.substr(i, end - i));
      i = end;
    }
  }
};

// True for the ASCII whitespace bytes: space, \t, \n, \v, \f, \r.
inline bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

}  // namespace bpe

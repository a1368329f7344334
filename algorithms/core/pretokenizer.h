// A pre-tokenizer splits text into pieces; no merge crosses a piece. Pieces always concatenate back
// to the input, for every byte string (invalid UTF-8 included), so decode(encode(x)) == x.
#pragma once

#include <cstddef>
#include <iterator>
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

  // Where PieceEnds delivers: fn(context, ends, count) with the next `count` piece ends, increasing
  // (a function pointer, so one indirect call per batch rather than per piece).
  struct EndsSink {
    void* context;
    void (*fn)(void* context, const size_t* ends, size_t count);
  };

  // Every piece end of text, in order, in batches (pieces are consecutive from 0, so the last end is
  // text.size()); exactly the pieces of PieceEnd. This default calls PieceEnd per piece; a
  // pre-tokenizer with a block scanner (64 bytes classified at a time: gpt2, cl100k, o200k)
  // overrides it and sets block_scanner_, so that ForEachPiece goes through it.
  virtual void PieceEnds(std::string_view text, EndsSink sink) const {
    size_t ends[64];
    size_t count = 0;
    for (size_t i = 0; i < text.size();) {
      ends[count++] = i = PieceEnd(text, i);
      if (count == std::size(ends)) {
        sink.fn(sink.context, ends, count);
        count = 0;
      }
    }
    if (count > 0) sink.fn(sink.context, ends, count);
  }

  bool has_block_scanner() const { return block_scanner_; }

  // Calls fn(piece) for every piece of text, in order: from PieceEnds where the pre-tokenizer has a
  // block scanner, else one PieceEnd call per piece.
  template <typename Fn>
  void ForEachPiece(std::string_view text, Fn&& fn) const {
    if (!block_scanner_) {
      ForEachPieceByPieceEnd(text, fn);
      return;
    }
    size_t begin = 0;
    auto batch = [&](const size_t* ends, size_t count) {
      for (size_t j = 0; j < count; ++j) {
        fn(text.substr(begin, ends[j] - begin));
        begin = ends[j];
      }
    };
    PieceEnds(text, EndsSink{&batch, [](void* context, const size_t* ends, size_t count) {
                               (*static_cast<decltype(batch)*>(context))(ends, count);
                             }});
  }

  // The same pieces from PieceEnd alone (what the block scanners are tested against).
  template <typename Fn>
  void ForEachPieceByPieceEnd(std::string_view text, Fn&& fn) const {
    for (size_t i = 0; i < text.size();) {
      const size_t end = PieceEnd(text, i);
      fn(text.substr(i, end - i));
      i = end;
    }
  }

 protected:
  bool block_scanner_ = false;  // set by a pre-tokenizer that overrides PieceEnds
};

// True for the ASCII whitespace bytes: space, \t, \n, \v, \f, \r.
inline bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

}  // namespace bpe

// Fuzz target 1: on arbitrary bytes and small arbitrary merge lists, with every pre-tokenizer, every
// registered encoder gives the reference encoder's ids, and decoding them gives the input back.
#include <string>
#include <vector>

#include "algorithms/registry.h"
#include "algorithms/runtime/text.h"
#include "algorithms/core/vocabulary.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpe;
  FuzzedDataProvider in(data, size);
  const auto& pre = PreTokenizers()[in.ConsumeIntegralInRange<size_t>(0, PreTokenizers().size() - 1)];
  const std::string text = in.ConsumeRandomLengthString(4096);  // rank is O(n^2) per piece
  const Vocabulary vocab(fuzz::SmallMerges(in, text, 64));
  const auto expected = EncodeText(text, pre.get(), FindEncoder(kReferenceEncoder).make, vocab, 1);
  for (const auto& e : Encoders()) {
    for (int threads : {1, 2}) {
      if (EncodeText(text, pre.get(), e.make, vocab, threads) != expected) {
        fuzz::Finding(std::string(e.name) + " differs from the reference with " + std::string(pre.name));
      }
    }
  }
  std::string back;
  vocab.Decode(expected, back);
  if (back != text) fuzz::Finding("decode(encode(x)) != x");
  return 0;
}

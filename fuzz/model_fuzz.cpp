// Fuzz target 2: the model loader on arbitrary bytes. It either throws bpe::Error (a clear message)
// or returns a model whose merges form a valid vocabulary and that survives a write/read round trip.
// Anything else (a crash, a sanitizer report, another exception type) is a finding.
#include <string_view>

#include "algorithms/core/error.h"
#include "algorithms/core/model.h"
#include "algorithms/core/vocabulary.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpe;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Model model;
  try {
    model = ParseModel(bytes, "fuzz input");
  } catch (const Error&) {
    return 0;
  }
  const Vocabulary vocab(model.merges);  // must not throw: ParseModel validated it
  if (!(ParseModel(SerializeModel(model), "round trip") == model)) fuzz::Finding("round trip changed the model");
  return 0;
}

// Fuzz target 2: the model loaders on arbitrary bytes: bpebench's model files, tiktoken's JSON rank
// files and .tiktoken files, and HF's tokenizer.json. Each either throws bpe::Error (a clear message)
// or returns a model whose merges form a valid vocabulary; bpebench models also survive a write/read
// round trip, and imported ones map every id of ours to an external id. Anything else (a crash, a
// sanitizer report, another exception type) is a finding. The first input byte picks the loader.
#include <string_view>

#include "algorithms/core/error.h"
#include "algorithms/formats/hf_json.h"
#include "algorithms/formats/model_file.h"
#include "algorithms/formats/tiktoken.h"
#include "algorithms/core/vocabulary.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpe;
  if (size == 0) return 0;
  const int which = data[0] % 4;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  Model model;
  try {
    switch (which) {
      case 0: model = ParseModel(bytes, "fuzz input"); break;
      case 1: model = ParseTiktokenJson(bytes, "fuzz input"); break;
      case 2: model = ParseTiktokenRanks(bytes, "fuzz input", "cl100k"); break;
      default: model = ParseHfTokenizerJson(bytes, "fuzz input"); break;
    }
  } catch (const Error&) {
    return 0;
  }
  const Vocabulary vocab(model.merges);  // must not throw: the loaders validated it
  if (which == 0) {
    if (!(ParseModel(SerializeModel(model), "round trip") == model)) fuzz::Finding("round trip changed the model");
  } else if (model.external_ids.size() != vocab.size()) {
    fuzz::Finding("an imported model lacks external ids");
  }
  return 0;
}

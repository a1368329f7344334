// Fuzz target 3: on small arbitrary corpora (arbitrary bytes as pieces, arbitrary 64-bit counts),
// every registered trainer gives the reference trainer's merge list and stop reason.
#include <string>

#include "algorithms/registry.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpe;
  FuzzedDataProvider in(data, size);
  TrainOptions options;
  options.vocab_size = in.ConsumeIntegralInRange<uint32_t>(256, 400);
  options.min_frequency = in.ConsumeBool() ? 1 : in.ConsumeIntegralInRange<uint64_t>(1, 20);
  options.threads = in.ConsumeIntegralInRange<int>(1, 4);
  const bool big_counts = in.ConsumeBool();  // counts near and above 2^32
  WordCounts counts;
  while (in.remaining_bytes() > 0 && counts.size() < 64) {
    std::string word = in.ConsumeRandomLengthString(48);
    if (word.empty()) continue;
    uint64_t count = in.ConsumeIntegralInRange<uint64_t>(1, 9);
    if (big_counts) count += (uint64_t{1} << 32) - 5;
    bool seen = false;  // word counts hold distinct pieces
    for (auto& wc : counts) seen |= wc.word == word;
    if (!seen) counts.push_back({std::move(word), count});
  }
  const TrainResult expected = FindTrainer(kReferenceTrainer).make()->Train(counts, options);
  for (const auto& t : Trainers()) {
    const TrainResult got = t.make()->Train(counts, options);
    if (got.merges != expected.merges || got.stop != expected.stop) {
      fuzz::Finding(std::string(t.name) + " differs from the reference trainer");
    }
  }
  return 0;
}

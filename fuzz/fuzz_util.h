// Helpers for the libFuzzer targets: turning fuzz bytes into small merge lists and corpora. Each
// target checks an invariant of the whole registry and aborts (a finding) when it does not hold.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "algorithms/core/types.h"

namespace bpe::fuzz {

// A finding: print what differs and abort, so libFuzzer saves the input.
[[noreturn]] inline void Finding(const std::string& what) {
  std::fprintf(stderr, "FINDING: %s\n", what.c_str());
  std::abort();
}

// A merge list of up to `max` merges, each over ids that exist before it; biased towards the bytes
// of `alphabet` so that merges actually apply to the text. Repeated pairs are dropped (a repeated
// pair is an invalid model, tested elsewhere).
inline MergeList SmallMerges(FuzzedDataProvider& in, const std::string& alphabet, size_t max) {
  MergeList merges;
  const size_t n = in.ConsumeIntegralInRange<size_t>(0, max);
  auto pick = [&](TokenId next) -> TokenId {
    if (!alphabet.empty() && in.ConsumeBool()) {
      return static_cast<uint8_t>(alphabet[in.ConsumeIntegralInRange<size_t>(0, alphabet.size() - 1)]);
    }
    if (next > kByteAlphabet && in.ConsumeBool()) return in.ConsumeIntegralInRange<TokenId>(kByteAlphabet, next - 1);
    return in.ConsumeIntegralInRange<TokenId>(0, next - 1);
  };
  for (size_t k = 0; k < n && in.remaining_bytes() > 0; ++k) {
    const TokenId next = MergedId(merges.size());
    const Pair p{pick(next), pick(next)};
    bool repeated = false;
    for (const Pair& q : merges) repeated |= q == p;
    if (!repeated) merges.push_back(p);
  }
  return merges;
}

}  // namespace bpe::fuzz

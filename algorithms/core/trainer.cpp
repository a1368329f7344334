#include "algorithms/core/trainer.h"

#include "algorithms/core/error.h"

namespace bpe {

std::string_view StopReasonText(StopReason reason) {
  switch (reason) {
    case StopReason::kVocabSize:
      return "reached the vocabulary size";
    case StopReason::kMinFrequency:
      return "the best pair occurs fewer times than min_frequency";
    case StopReason::kNoPairs:
      return "no pairs left: every piece is a single token";
  }
  return "unknown";
}

MergeLoop::MergeLoop(const TrainOptions& options) : options_(options) {
  if (options.vocab_size < kByteAlphabet) {
    Fail("vocabulary size {} is below the {}-byte alphabet", options.vocab_size, kByteAlphabet);
  }
  target_ = options.vocab_size - kByteAlphabet;
}

void MergeLoop::MarkBuilt() {
  if (built_) return;
  built_ = true;
  result_.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

TrainResult MergeLoop::Finish() && {
  MarkBuilt();
  return std::move(result_);
}

bool MergeLoop::Accept(Pair best, uint64_t count) {
  MarkBuilt();
  if (count == 0) {
    result_.stop = StopReason::kNoPairs;
    return false;
  }
  if (count < options_.min_frequency) {
    result_.stop = StopReason::kMinFrequency;
    return false;
  }
  result_.merges.push_back(best);
  if (options_.progress && (result_.merges.size() % 64 == 0 || Done())) {
    options_.progress({result_.merges.size(), target_, count});
  }
  return true;
}

}  // namespace bpe

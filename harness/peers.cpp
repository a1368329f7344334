#include "harness/peers.h"

#include <fmt/core.h>

#include <thread>

#include "algorithms/core/error.h"
#include "cli/source_dir.h"

#ifdef BPEBENCH_HAVE_SENTENCEPIECE
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

// Exported by libsentencepiece but declared only in its private headers. Level 2 keeps its
// per-training INFO and WARNING lines off the progress display.
namespace sentencepiece::logging {
void SetMinLogLevel(int v);
}  // namespace sentencepiece::logging
#endif

namespace bpe::harness {

// ---- sentencepiece ----

#ifdef BPEBENCH_HAVE_SENTENCEPIECE

std::string SentencePieceUnavailable() { return ""; }
std::string SentencePieceVersion() { return BPEBENCH_SENTENCEPIECE_VERSION; }

namespace {

// The text's lines, without their newlines, as sentencepiece's trainer wants them.
class LineIterator : public sentencepiece::SentenceIterator {
 public:
  explicit LineIterator(std::string_view text) : text_(text) { Next(); }
  bool done() const override { return done_; }
  void Next() override {
    if (pos_ >= text_.size()) {
      done_ = true;
      return;
    }
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    line_.assign(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
  }
  const std::string& value() const override { return line_; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  std::string line_;
  bool done_ = false;
};

class SpModel : public SentencePieceModel {
 public:
  explicit SpModel(const std::string& proto) {
    const auto status = processor_.LoadFromSerializedProto(proto);
    if (!status.ok()) Fail("sentencepiece cannot load the model it trained: {}", status.ToString());
  }
  size_t Encode(std::string_view text, int threads) const override {
    // Contiguous runs of lines, one per thread, cut after a newline.
    std::vector<size_t> cuts = {0};
    for (int t = 1; t < threads; ++t) {
      size_t at = text.size() * t / threads;
      at = text.find('\n', std::max(at, cuts.back()));
      cuts.push_back(at == std::string_view::npos ? text.size() : at + 1);
    }
    cuts.push_back(text.size());
    std::vector<size_t> counts(threads, 0);
    auto work = [&](int t) {
      std::vector<int> ids;
      std::string_view part = text.substr(cuts[t], cuts[t + 1] - cuts[t]);
      size_t pos = 0;
      while (pos < part.size()) {
        size_t end = part.find('\n', pos);
        if (end == std::string_view::npos) end = part.size();
        // Encode's status is not ok only for an unloaded model, which the constructor rules out.
        processor_.Encode(part.substr(pos, end - pos), &ids).IgnoreError();
        counts[t] += ids.size();
        pos = end + 1;
      }
    };
    std::vector<std::jthread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    pool.clear();
    size_t total = 0;
    for (size_t c : counts) total += c;
    return total;
  }
  int pieces() const override { return processor_.GetPieceSize(); }

 private:
  sentencepiece::SentencePieceProcessor processor_;
};

}  // namespace

std::unique_ptr<SentencePieceModel> SentencePieceTrain(std::string_view text, uint32_t vocab_size, int threads) {
  sentencepiece::logging::SetMinLogLevel(2);
  LineIterator lines(text);
  std::string proto;
  const auto status = sentencepiece::SentencePieceTrainer::Train(
      fmt::format("--model_type=bpe --vocab_size={} --character_coverage=1.0 --byte_fallback=true "
                  "--num_threads={} --minloglevel=2",
                  vocab_size, threads),
      &lines, &proto);
  if (!status.ok()) Fail("sentencepiece: {}", status.ToString());
  return std::make_unique<SpModel>(proto);
}

#else

std::string SentencePieceUnavailable() {
  return "not built: libsentencepiece-dev was not found when the harness was configured (scripts/setup "
         "installs it; then rebuild)";
}
std::string SentencePieceVersion() { return ""; }
std::unique_ptr<SentencePieceModel> SentencePieceTrain(std::string_view, uint32_t, int) {
  Fail("sentencepiece: {}", SentencePieceUnavailable());
}

#endif

// ---- plug-ins ----

std::string PeersFolder() { return SourceDir() + "/harness/peers"; }

}  // namespace bpe::harness

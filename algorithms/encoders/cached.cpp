// Encoder `cached`: a bounded piece cache in front of another encoder (here `hybrid`). Natural text
// repeats its words: on gutenberg5's held-out text most pieces were seen before, and a hit costs
// one hash lookup and a copy of a few ids instead of a BPE run.
//
// Bounds (HF tokenizers' word cache grew to about 2 GB in its issue 1539): only pieces of at most
// kMaxPieceBytes are cached, and when the cache holds kMaxEntries pieces it is emptied and refilled,
// so it follows the text and never holds more than about kMaxEntries x (kMaxPieceBytes + ids) bytes
// (a few MB) per encoder instance, i.e. per thread. Instances are never shared: no locks.
// Counters(): hits, misses and the hit rate, which the harness records.
#include <boost/unordered/unordered_flat_map.hpp>
#include <memory>
#include <string>

#include "algorithms/core/encoder.h"

namespace bpe {

std::unique_ptr<Encoder> MakeHybridEncoder(const Vocabulary&);

namespace {

constexpr size_t kMaxPieceBytes = 48;
constexpr size_t kMaxEntries = 1 << 16;

class CachedEncoder final : public Encoder {
 public:
  CachedEncoder(const Vocabulary& v, std::unique_ptr<Encoder> inner) : Encoder(v), inner_(std::move(inner)) {}

  void EncodePiece(std::string_view piece, std::vector<TokenId>& out) override {
    if (piece.size() > kMaxPieceBytes) {
      inner_->EncodePiece(piece, out);
      return;
    }
    if (const auto it = cache_.find(piece); it != cache_.end()) {
      ++hits_;
      const auto [offset, count] = it->second;
      out.insert(out.end(), ids_.begin() + offset, ids_.begin() + offset + count);
      return;
    }
    ++misses_;
    const size_t before = out.size();
    inner_->EncodePiece(piece, out);
    if (cache_.size() >= kMaxEntries) {
      cache_.clear();
      ids_.clear();
    }
    cache_.emplace(std::string(piece), Span{static_cast<uint32_t>(ids_.size()), static_cast<uint32_t>(out.size() - before)});
    ids_.insert(ids_.end(), out.begin() + before, out.end());
  }

  std::vector<std::pair<std::string, double>> Counters() const override {
    const double total = static_cast<double>(hits_ + misses_);
    return {{"cache_hits", static_cast<double>(hits_)},
            {"cache_misses", static_cast<double>(misses_)},
            {"cache_hit_rate", total > 0 ? hits_ / total : 0.0}};
  }

 private:
  struct Span {
    uint32_t offset, count;  // in ids_
  };
  std::unique_ptr<Encoder> inner_;
  boost::unordered_flat_map<std::string, Span, StringHash, std::equal_to<>> cache_;
  std::vector<TokenId> ids_;  // the cached pieces' ids, back to back
  uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace

std::unique_ptr<Encoder> MakeCachedEncoder(const Vocabulary& v) {
  return std::make_unique<CachedEncoder>(v, MakeHybridEncoder(v));
}

}  // namespace bpe

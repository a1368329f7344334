// Encoder `cached`: `backtrack` with a bounded cache of the pieces that are more than one token.
// Natural text repeats its words. A piece that is one token (most of them: 92% of gutenberg5's
// held-out pieces at vocab 10000, single bytes included) is answered by backtrack's shared
// whole-token table in one probe and never enters the cache; a multi-token piece seen before costs
// one probe of the cache and a copy of its few ids instead of a search.
//
// The cache is built for short pieces: a piece of at most kMaxPieceBytes (16) bytes is packed into
// two 64-bit words (short_key.h), so a lookup is a multiply-shift hash and two word compares: no
// string hashing, no memcmp call. Longer pieces (about 1% of English pieces under gpt2) go straight
// to backtrack.
//
// Bounds (HF tokenizers' word cache grew to about 2 GB in its issue 1539): when the cache holds
// kMaxEntries pieces it is emptied and refilled, so it follows the text and never holds more than
// 2 x kMaxEntries slots of 32 bytes plus the ids (about 4 MB) per encoder instance, i.e. per
// thread; the table starts at 4096 slots and doubles while it is half full, so short texts stay
// cheap. Instances are never shared: no locks. Counters(): whole-token pieces, cache hits, misses
// and the hit rate (hits / (hits + misses)), which the harness records.
#include <memory>

#include "algorithms/core/encoder.h"
#include "algorithms/encoders/short_key.h"
#include "algorithms/encoders/backtrack.h"

namespace bpe {

namespace {

constexpr size_t kMaxPieceBytes = kShortKeyMaxBytes;
constexpr size_t kMaxEntries = 1 << 16;
constexpr size_t kFirstSlots = 1 << 12;  // doubles while half full, up to 2 x kMaxEntries

// A slot: the piece's bytes packed (short_key.h), and where its ids are.
struct Entry {
  ShortKey key;         // key.length 0: empty slot
  uint32_t offset = 0;  // the piece's ids in ids_
  uint32_t count = 0;
};

class CachedEncoder final : public BacktrackEncoder {
 public:
  explicit CachedEncoder(const Vocabulary& v) : BacktrackEncoder(v), slots_(kFirstSlots), shift_(64 - 12) {}

  bool KeepsState() const override { return true; }

  std::vector<std::pair<std::string, double>> Counters() const override {
    auto counters = BacktrackEncoder::Counters();  // whole_token_pieces
    const double total = static_cast<double>(hits_ + misses_);
    counters.insert(counters.end(), {{"cache_hits", static_cast<double>(hits_)},
                                     {"cache_misses", static_cast<double>(misses_)},
                                     {"cache_hit_rate", total > 0 ? hits_ / total : 0.0}});
    return counters;
  }

 private:
  // A piece that is not one token (EncodePiece's probe of the whole-token table said so): from the
  // cache, or searched by backtrack and cached.
  void Search(std::string_view piece, std::vector<TokenId>& out) override {
    if (piece.size() > kMaxPieceBytes) {
      BacktrackEncoder::Search(piece, out);
      return;
    }
    Entry key{PackShort(piece)};
    const size_t mask = slots_.size() - 1;
    size_t i = HashShort(key.key) >> shift_;
    for (; slots_[i].key.length != 0; i = (i + 1) & mask) {
      if (slots_[i].key == key.key) {
        ++hits_;
        const TokenId* ids = ids_.data() + slots_[i].offset;
        for (uint32_t j = 0; j < slots_[i].count; ++j) out.push_back(ids[j]);
        return;
      }
    }
    ++misses_;
    const size_t before = out.size();
    BacktrackEncoder::Search(piece, out);
    if (entries_ == kMaxEntries) {  // full: start over, keeping the table's size
      std::fill(slots_.begin(), slots_.end(), Entry{});
      ids_.clear();
      entries_ = 0;
    } else if (2 * (entries_ + 1) > slots_.size()) {
      Grow();
    }
    key.offset = static_cast<uint32_t>(ids_.size());
    key.count = static_cast<uint32_t>(out.size() - before);
    ids_.insert(ids_.end(), out.begin() + static_cast<ptrdiff_t>(before), out.end());
    Insert(key);
    ++entries_;
  }

  void Insert(const Entry& e) {
    const size_t mask = slots_.size() - 1;
    size_t i = HashShort(e.key) >> shift_;
    while (slots_[i].key.length != 0) i = (i + 1) & mask;
    slots_[i] = e;
  }
  void Grow() {
    std::vector<Entry> old(slots_.size() * 2);
    old.swap(slots_);
    --shift_;
    for (const Entry& e : old) {
      if (e.key.length != 0) Insert(e);
    }
  }

  std::vector<Entry> slots_;  // open addressing, linear probing; size a power of two
  int shift_;                 // 64 - log2(slots_.size()): the hash's top bits pick the slot
  std::vector<TokenId> ids_;  // the cached pieces' ids, back to back
  size_t entries_ = 0;
  uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace

std::unique_ptr<Encoder> MakeCachedEncoder(const Vocabulary& v) {
  return std::make_unique<CachedEncoder>(v);
}

}  // namespace bpe

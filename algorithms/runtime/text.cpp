#include "algorithms/runtime/text.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <utility>

#include "algorithms/runtime/parallel.h"

namespace bpe {

std::vector<std::string_view> SplitAtSafeBoundaries(std::string_view text, const PreTokenizer& pre,
                                                    size_t parts) {
  std::vector<std::string_view> chunks;
  if (parts < 1) parts = 1;
  size_t begin = 0;
  for (size_t k = 1; k < parts && begin < text.size(); ++k) {
    const size_t hint = std::max(begin + 1, text.size() * k / parts);
    const size_t cut = pre.SafeBoundary(text, hint);
    if (cut >= text.size()) break;
    chunks.push_back(text.substr(begin, cut - begin));
    begin = cut;
  }
  if (begin < text.size() || chunks.empty()) chunks.push_back(text.substr(begin));
  return chunks;
}

namespace {

// How many chunks per thread a text is cut into for counting, at least: the threads take them in
// turn, so a thread whose chunks go slower (text that pre-tokenizes more slowly, or a core the VM's
// host lends elsewhere for a while) takes fewer. With one half per thread, the halves of
// gutenberg93 took 235 and 256 ms, and 2 threads waited for the slower one. Chunks are also at most
// about kChunkBytes, so that a round (below) is a few of them.
constexpr size_t kChunksPerThread = 64;
constexpr size_t kChunkBytes = size_t{128} << 10;

// Counting goes in rounds of about this much text per thread. In a round each thread pre-tokenizes
// chunks into records (a piece's key and hash, 24 bytes) sorted by the table that takes them; then
// each thread adds its table's records from every thread, asking for the slot of the record
// kAhead records on. A round's records stay in the caches; the tables, with millions of distinct
// pieces, do not, and a rare piece's slot is a cache miss that the prefetches overlap.
constexpr size_t kRoundBytesPerThread = size_t{512} << 10;
constexpr size_t kAhead = 16;

using Records = std::vector<HashedKey>;
// Per thread: its records of the round, one vector per table.
using CountScratch = std::vector<Padded<std::vector<Records>>>;

void AddRecords(const Records& records, PieceTable& table) {
  const size_t n = records.size();
  for (size_t k = 0; k < std::min(n, kAhead); ++k) table.Prefetch(records[k].hash);
  for (size_t k = 0; k < n; ++k) {
    if (k + kAhead < n) table.Prefetch(records[k + kAhead].hash);
    table.Add(records[k], 1);
  }
}

// Counts each of `units` as a text of its own into `tables`: a piece goes to the table of its hash
// modulo the tables, and table p is written only by thread p (no locks), on tables.size() threads.
void CountUnits(std::span<const std::string_view> units, const PreTokenizer& pre, std::vector<Padded<PieceTable>>& tables,
                CountScratch& scratch) {
  const size_t parts = tables.size();
  scratch.resize(parts);
  for (auto& s : scratch) s.value.resize(parts);
  auto tokenize = [&](std::string_view unit, std::vector<Records>& out) {
    const char* end = unit.data() + unit.size();
    pre.ForEachPiece(unit, [&](std::string_view piece) {
      const HashedKey k = MakeKey(piece, end);
      out[parts == 1 ? 0 : k.hash % parts].push_back(k);
    });
  };
  for (size_t begin = 0; begin < units.size();) {
    // The round: units [begin, end).
    size_t end = begin, bytes = 0;
    while (end < units.size() && bytes < kRoundBytesPerThread * parts) bytes += units[end++].size();
    if (parts == 1) {
      Records& records = scratch[0].value[0];
      for (size_t u = begin; u < end; ++u) {
        records.clear();
        tokenize(units[u], scratch[0].value);
        AddRecords(records, tables[0].value);
      }
    } else {
      std::atomic<size_t> next{begin};
      RunParallel(parts, [&](size_t t) {
        for (Records& r : scratch[t].value) r.clear();
        for (size_t u; (u = next.fetch_add(1, std::memory_order_relaxed)) < end;) tokenize(units[u], scratch[t].value);
      });
      RunParallel(parts, [&](size_t p) {
        for (const auto& s : scratch) AddRecords(s.value[p], tables[p].value);
      });
    }
    begin = end;
  }
}

// Counts `text` into `tables` (CountUnits), cut into chunks at safe boundaries.
void CountText(std::string_view text, const PreTokenizer& pre, std::vector<Padded<PieceTable>>& tables,
               CountScratch& scratch) {
  const size_t parts = std::max(tables.size() == 1 ? 1 : tables.size() * kChunksPerThread, text.size() / kChunkBytes);
  const auto chunks = SplitAtSafeBoundaries(text, pre, parts);
  CountUnits(chunks, pre, tables, scratch);
}

// A piece to sort: its first 16 bytes as two big-endian numbers (zero-padded) and its slot in a
// counting table. Most comparisons are settled by the numbers and the piece's length without
// reading the slot again. Bytes compare as unsigned, and a piece that ends within the 16 bytes pads
// with zeros, below any byte or equal to a 0 byte; so a smaller prefix means a smaller piece (ranges
// of prefixes are ranges of pieces), and of two pieces with equal numbers of which one ends within
// the 16 bytes, the shorter comes first (it is the other's beginning). 24 bytes a piece.
struct Keyed {
  uint64_t prefix;  // bytes 0-7
  uint64_t next;    // bytes 8-15
  const PieceTable::Slot* slot;

  static uint64_t Word(std::string_view k, size_t from) {
    uint64_t p = 0;
    for (size_t i = from; i < from + 8; ++i) p = (p << 8) | (i < k.size() ? static_cast<uint8_t>(k[i]) : 0);
    return p;
  }
  static Keyed Of(const PieceTable::Slot& s) {
    if (s.key.is_long()) return {Word(s.key.view(), 0), Word(s.key.view(), 8), &s};
    // An inline key's words are its bytes in memory order, the length in the top byte of hi.
    return {__builtin_bswap64(s.key.lo), __builtin_bswap64(s.key.hi & ~(uint64_t{0xFF} << 56)), &s};
  }
  size_t size() const { return slot->key.size(); }
  std::string_view tail() const { return slot->key.view().substr(16); }  // pieces over 16 bytes only

  // Orders two pieces with equal prefixes by their next 8 bytes and sizes; only where those are
  // equal and both are longer than 16 bytes are their bytes read.
  bool LessAfterPrefix(const Keyed& o) const {
    if (next != o.next) return next < o.next;
    const size_t a = size(), b = o.size();
    if (a <= 16 || b <= 16) return a < b;
    return tail() < o.tail();
  }
  bool SameKey(const Keyed& o) const {
    if (prefix != o.prefix || next != o.next) return false;
    const size_t a = size();
    return a == o.size() && (a <= 16 || tail() == o.tail());
  }
};

// The keys of a table's pieces, appended to `out` (the slots are read in order).
void AppendKeys(const PieceTable& table, std::vector<Keyed>& out) {
  table.ForEachSlot([&](const PieceTable::Slot& s) { out.push_back(Keyed::Of(s)); });
}

// Sorts the keys by bytes: radix-sorted by prefix, a byte at a time from the lowest (a byte that is
// the same in every prefix is skipped), through a scratch array of the same size; then each run of
// equal prefixes (pieces that share their first 8 bytes, and with several tables a piece that more
// than one holds) is sorted by the next 8 bytes and the length, reading the pieces' bytes only past
// 16 bytes. On gutenberg93 (173k distinct pieces) std::sort took 19-20 ms where a radix sort of
// the prefixes took 11 ms.
void SortKeys(std::vector<Keyed>& keys) {
  const size_t n = keys.size();
  auto less_after_prefix = [](const Keyed& x, const Keyed& y) { return x.LessAfterPrefix(y); };
  {
    std::vector<Keyed> scratch(n);
    std::array<std::array<size_t, 256>, 8> histogram{};
    for (const Keyed& k : keys) {
      for (int d = 0; d < 8; ++d) ++histogram[d][(k.prefix >> (8 * d)) & 0xFF];
    }
    for (int d = 0; d < 8 && n > 0; ++d) {
      std::array<size_t, 256>& start = histogram[d];
      if (start[(keys[0].prefix >> (8 * d)) & 0xFF] == n) continue;  // the same byte in every prefix
      size_t sum = 0;
      for (size_t& c : start) sum += std::exchange(c, sum);
      for (const Keyed& k : keys) scratch[start[(k.prefix >> (8 * d)) & 0xFF]++] = k;
      keys.swap(scratch);
    }
  }
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && keys[j].prefix == keys[i].prefix) ++j;
    if (j - i > 1) std::sort(keys.begin() + static_cast<ptrdiff_t>(i), keys.begin() + static_cast<ptrdiff_t>(j), less_after_prefix);
    i = j;
  }
}

// The number of distinct pieces among sorted keys (equal ones, from different tables, are
// neighbours).
size_t CountDistinct(const std::vector<Keyed>& keys) {
  size_t distinct = 0;
  for (size_t i = 0; i < keys.size(); ++i) distinct += i == 0 || !keys[i].SameKey(keys[i - 1]);
  return distinct;
}

// Writes the sorted keys' pieces to out[0..), the counts of equal keys summed. The slots lie
// scattered over the tables, so each is asked for a few keys ahead.
void CopyOut(const std::vector<Keyed>& keys, WordCount* out) {
  constexpr size_t kAheadSlots = 8;
  const size_t n = keys.size();
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    if (i + kAheadSlots < n) __builtin_prefetch(keys[i + kAheadSlots].slot);
    uint64_t sum = keys[i].slot->count;
    size_t j = i + 1;
    for (; j < n && keys[j].SameKey(keys[i]); ++j) sum += keys[j].slot->count;
    out[o].word.assign(keys[i].slot->key.view());
    out[o++].count = sum;
    i = j;
  }
}

// The tables' pieces with their summed counts, sorted by bytes. Each table's keys are gathered by
// its own thread (in CountWords and WordCounter the thread that filled it), the prefixes are cut
// into one range per thread at splitters taken from a sample of them, and each thread takes its
// range's keys from every table, sorts them and writes its range of the result. Equal keys have
// equal prefixes, so they meet in one range. The result is the same for any thread count (the
// order is the bytes', the sums are exact). Memory on top of the tables: 24 bytes a piece for the
// gathered keys, 24 for a range's copy and 24 for the sort's scratch, then the result's 40.
WordCounts SortedCounts(const std::vector<const PieceTable*>& tables, int threads) {
  size_t total = 0;
  for (const PieceTable* t : tables) total += t->size();
  constexpr size_t kParallelFrom = 1 << 14;  // fewer keys: one thread sorts them faster than two start
  if (threads <= 1 || total < kParallelFrom) {
    std::vector<Keyed> keys;
    keys.reserve(total);
    for (const PieceTable* t : tables) AppendKeys(*t, keys);
    SortKeys(keys);
    WordCounts counts(CountDistinct(keys));
    CopyOut(keys, counts.data());
    return counts;
  }
  std::vector<Padded<std::vector<Keyed>>> gathered(tables.size());
  RunParallel(tables.size(), [&](size_t t) {
    gathered[t].value.reserve(tables[t]->size());
    AppendKeys(*tables[t], gathered[t].value);
  });
  const size_t parts = static_cast<size_t>(threads);
  std::vector<uint64_t> sample;
  const size_t stride = std::max<size_t>(1, total / (64 * parts));
  for (const auto& g : gathered) {
    for (size_t i = 0; i < g.value.size(); i += stride) sample.push_back(g.value[i].prefix);
  }
  std::sort(sample.begin(), sample.end());
  std::vector<uint64_t> cuts(parts - 1);  // range p: prefixes in [cuts[p - 1], cuts[p])
  for (size_t p = 1; p < parts; ++p) cuts[p - 1] = sample[p * sample.size() / parts];

  // Each thread takes its range from every table's keys; once all have, the gathered keys go, and
  // each thread sorts its range and counts its distinct pieces. Then the result is allocated and
  // each thread writes its range straight to its place in it.
  std::vector<Padded<std::vector<Keyed>>> ranges(parts);
  std::vector<size_t> sizes(parts + 1);  // then: where range p starts in the result
  RunParallel(parts, [&](size_t p) {
    const uint64_t low = p == 0 ? 0 : cuts[p - 1];
    const bool last = p + 1 == parts;
    const uint64_t high = last ? 0 : cuts[p];
    size_t in_range = 0;
    for (const auto& g : gathered) {
      for (const Keyed& k : g.value) in_range += k.prefix >= low && (last || k.prefix < high);
    }
    std::vector<Keyed>& keys = ranges[p].value;
    keys.reserve(in_range);
    for (const auto& g : gathered) {
      for (const Keyed& k : g.value) {
        if (k.prefix >= low && (last || k.prefix < high)) keys.push_back(k);
      }
    }
  });
  gathered.clear();
  gathered.shrink_to_fit();
  RunParallel(parts, [&](size_t p) {
    SortKeys(ranges[p].value);
    sizes[p + 1] = CountDistinct(ranges[p].value);
  });
  for (size_t p = 0; p < parts; ++p) sizes[p + 1] += sizes[p];
  WordCounts counts(sizes[parts]);
  RunParallel(parts, [&](size_t p) { CopyOut(ranges[p].value, counts.data() + sizes[p]); });
  return counts;
}

// The tables' pieces and counts in the tables' order (no piece is in two tables), each table's
// written by a thread of its own.
WordCounts UnsortedCounts(const std::vector<const PieceTable*>& tables) {
  std::vector<size_t> at(tables.size() + 1, 0);
  for (size_t t = 0; t < tables.size(); ++t) at[t + 1] = at[t] + tables[t]->size();
  WordCounts counts(at.back());
  RunParallel(tables.size(), [&](size_t t) {
    WordCount* out = counts.data() + at[t];
    tables[t]->ForEachSlot([&](const PieceTable::Slot& s) {
      out->word.assign(s.key.view());
      (out++)->count = s.count;
    });
  });
  return counts;
}

}  // namespace

WordCounts CountWords(std::string_view text, const PreTokenizer& pre, int threads) {
  // Sorted by bytes, so the result does not depend on hash order or thread count.
  std::vector<Padded<PieceTable>> tables(static_cast<size_t>(std::max(threads, 1)));
  CountScratch scratch;
  CountText(text, pre, tables, scratch);
  CountScratch().swap(scratch);
  std::vector<const PieceTable*> views;
  for (const auto& t : tables) views.push_back(&t.value);
  return SortedCounts(views, threads);
}

WordCounter::WordCounter(const PreTokenizer& pre, int threads)
    : pre_(pre), threads_(std::max(threads, 1)), tables_(static_cast<size_t>(threads_)) {}

WordCounter::~WordCounter() = default;

namespace {

// The last safe boundary in `text` at or after `from` (>= 1), or 0 when there is none.
size_t LastBoundary(std::string_view text, const PreTokenizer& pre, size_t from) {
  size_t last = 0;
  for (size_t p = pre.SafeBoundary(text, from); p < text.size(); p = pre.SafeBoundary(text, p + 1)) last = p;
  return last;
}

// Where to cut text that arrives in blocks: the last safe boundary in `carry` (at or after 1), or 0
// when there is none. `scanned`: carry[1, scanned) is known to hold none (from the previous call).
size_t CarryCut(std::string_view carry, const PreTokenizer& pre, size_t scanned) {
  // Look for the cut in the last 4 KiB first (text has boundaries every few bytes), then in windows
  // twice as long, down to where the previous search stopped: a block costs a scan of its tail, not
  // of every boundary in it.
  const size_t from = std::max<size_t>(scanned, 1);
  for (size_t window = 4096;; window *= 2) {
    const size_t start = carry.size() > from + window ? carry.size() - window : from;
    if (const size_t cut = LastBoundary(carry, pre, start); cut > 0 || start == from) return cut;
  }
}

// Appends `bytes` to `carry`; when it holds a safe boundary, hands the text before the last one to
// consume(end) and drops it. `scanned` remembers that the rest holds none (its first byte is one, or
// is byte 0).
template <typename F>
void AddAndCut(std::string& carry, size_t& scanned, const PreTokenizer& pre, std::string_view bytes, F&& consume) {
  carry.append(bytes);
  const size_t cut = CarryCut(carry, pre, scanned);
  if (cut > 0) {
    consume(cut);
    carry.erase(0, cut);
  }
  scanned = carry.size();
}

}  // namespace

void WordCounter::Add(std::string_view bytes) {
  AddAndCut(carry_, scanned_, pre_, bytes, [this](size_t end) { CountPrefix(end); });
}

void StreamEncoder::Add(std::string_view bytes) {
  AddAndCut(carry_, scanned_, pre_, bytes, [this](size_t end) { EncodePrefix(end); });
}

StreamEncoder::StreamEncoder(const PreTokenizer& pre, EncoderFactory make_encoder, const Vocabulary& vocab,
                             int threads, Sink sink)
    : pre_(pre), make_(make_encoder), vocab_(vocab), threads_(std::max(threads, 1)), sink_(std::move(sink)) {}

StreamEncoder::~StreamEncoder() = default;

void StreamEncoder::Finish() {
  if (!carry_.empty()) EncodePrefix(carry_.size());
  carry_.clear();
  scanned_ = 0;
}

void StreamEncoder::EncodePrefix(size_t end) {
  const size_t count = EncodeParts(std::string_view(carry_.data(), end), pre_, make_, vocab_, threads_, encoders_, parts_);
  for (size_t i = 0; i < count; ++i) sink_(parts_[i].value);
  bytes_ += end;
}

void WordCounter::CountPrefix(size_t end) {
  CountText(std::string_view(carry_.data(), end), pre_, tables_, scratch_);
  offset_ += end;
}

void WordCounter::AddDocuments(std::span<const std::string_view> documents) {
  if (!carry_.empty()) CountPrefix(carry_.size());
  carry_.clear();
  scanned_ = 0;
  std::vector<std::string_view> units;
  units.reserve(documents.size());
  for (std::string_view d : documents) {
    if (!d.empty()) units.push_back(d);
    offset_ += d.size();
  }
  CountUnits(units, pre_, tables_, scratch_);
}

uint64_t WordCounter::table_bytes() const {
  uint64_t bytes = 0;
  for (const auto& t : tables_) bytes += t.value.memory_bytes();
  return bytes;
}

WordCounts WordCounter::Finish(bool sorted) {
  if (!carry_.empty()) CountPrefix(carry_.size());
  carry_.clear();
  carry_.shrink_to_fit();
  CountScratch().swap(scratch_);
  std::vector<const PieceTable*> views;
  for (const auto& t : tables_) views.push_back(&t.value);
  WordCounts counts = sorted ? SortedCounts(views, threads_) : UnsortedCounts(views);
  const size_t parts = tables_.size();
  tables_.clear();
  tables_.resize(parts);
  return counts;
}

void EncodeChunk(std::string_view text, const PreTokenizer& pre, Encoder& encoder,
                 std::vector<TokenId>& out) {
  encoder.EncodeChunk(text, pre, out);
}

size_t EncodeParts(std::string_view text, const PreTokenizer& pre, EncoderFactory make_encoder,
                   const Vocabulary& vocab, int threads, std::vector<std::unique_ptr<Encoder>>& encoders,
                   std::vector<Padded<std::vector<TokenId>>>& parts) {
  const auto chunks = SplitAtSafeBoundaries(text, pre, static_cast<size_t>(std::max(threads, 1)));
  if (encoders.size() < chunks.size()) encoders.resize(chunks.size());
  if (parts.size() < chunks.size()) parts.resize(chunks.size());
  RunParallel(chunks.size(), [&](size_t i) {
    if (!encoders[i]) encoders[i] = make_encoder(vocab);  // on the thread that uses it
    std::vector<TokenId>& ids = parts[i].value;
    ids.clear();
    ids.reserve((i == 0 ? text.size() : chunks[i].size()) / 3);
    EncodeChunk(chunks[i], pre, *encoders[i], ids);
  });
  return chunks.size();
}

std::vector<TokenId> EncodeText(std::string_view text, const PreTokenizer& pre,
                                EncoderFactory make_encoder, const Vocabulary& vocab, int threads) {
  std::vector<std::unique_ptr<Encoder>> encoders;
  std::vector<Padded<std::vector<TokenId>>> parts;
  const size_t count = EncodeParts(text, pre, make_encoder, vocab, threads, encoders, parts);
  if (count == 1) return std::move(parts[0].value);
  size_t total = 0;
  for (size_t i = 0; i < count; ++i) total += parts[i].value.size();
  std::vector<TokenId> ids = std::move(parts[0].value);
  ids.reserve(total);
  for (size_t i = 1; i < count; ++i) ids.insert(ids.end(), parts[i].value.begin(), parts[i].value.end());
  return ids;
}

}  // namespace bpe

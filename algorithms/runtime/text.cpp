#include "algorithms/runtime/text.h"

#include <boost/unordered/unordered_flat_map.hpp>
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

using PieceTable = boost::unordered_flat_map<std::string_view, uint64_t>;

void CountChunk(std::string_view chunk, const PreTokenizer& pre, PieceTable& table) {
  pre.ForEachPiece(chunk, [&](std::string_view piece) { ++table[piece]; });
}

// How many chunks per thread the text is cut into for counting: on gutenberg93 (63 MB) a chunk of
// about 0.5 MB takes 3-4 ms, so the thread that finishes first waits that long at most. 64 against
// 16 took 253 ms against 261 and 270 against 279 on 2 threads (in-process, 15 alternated runs each,
// medians).
constexpr size_t kChunksPerThread = 64;

// Counts the text into one table per thread (views into text: no copies of the pieces yet). With
// several threads the text is cut into kChunksPerThread chunks per thread, which the threads take in
// turn, so that a thread whose chunks go slower (text that pre-tokenizes more slowly, or a core the
// VM's host lends elsewhere for a while) takes fewer: with one half per thread, the halves of
// gutenberg93 took 235 and 256 ms, and 2 threads waited for the slower one. The tables are Padded: each insert writes its table's size.
std::vector<Padded<PieceTable>> CountParallel(std::string_view text, const PreTokenizer& pre, int threads) {
  const size_t workers = static_cast<size_t>(std::max(threads, 1));
  const auto chunks = SplitAtSafeBoundaries(text, pre, workers == 1 ? 1 : workers * kChunksPerThread);
  std::vector<Padded<PieceTable>> tables(std::min(workers, chunks.size()));
  std::atomic<size_t> next{0};
  RunParallel(tables.size(), [&](size_t t) {
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < chunks.size();) {
      CountChunk(chunks[i], pre, tables[t].value);
    }
  });
  return tables;
}

// A piece to sort, with its first 16 bytes as two big-endian numbers (zero-padded): most
// comparisons are settled by them and the piece's length without reading the piece's bytes, which
// lie scattered over the text. Bytes compare as unsigned, and a piece that ends within the 16 bytes
// pads with zeros, below any byte or equal to a 0 byte; so a smaller prefix means a smaller piece
// (ranges of prefixes are ranges of pieces), and of two pieces with equal numbers of which one
// ends within the 16 bytes, the shorter comes first (it is the other's beginning).
struct Entry {
  uint64_t prefix;  // bytes 0-7
  uint64_t next;    // bytes 8-15
  std::string_view key;
  uint64_t count;
  static uint64_t Word(std::string_view k, size_t from) {
    uint64_t p = 0;
    for (size_t i = from; i < from + 8; ++i) p = (p << 8) | (i < k.size() ? static_cast<uint8_t>(k[i]) : 0);
    return p;
  }
  // Orders two pieces with equal prefixes by their next 8 bytes and sizes; only where those are
  // equal and both are longer than 16 bytes are their bytes read (tails_less()).
  template <typename TailsLess>
  static bool LessAfterPrefix(uint64_t next_a, size_t size_a, uint64_t next_b, size_t size_b, TailsLess tails_less) {
    if (next_a != next_b) return next_a < next_b;
    if (size_a <= 16 || size_b <= 16) return size_a < size_b;
    return tails_less();
  }
  bool operator<(const Entry& o) const {
    return prefix != o.prefix ? prefix < o.prefix
                              : LessAfterPrefix(next, key.size(), o.next, o.key.size(),
                                                [&] { return key.substr(16) < o.key.substr(16); });
  }
  bool SameKey(const Entry& o) const {
    return prefix == o.prefix && next == o.next && key.size() == o.key.size() &&
           (key.size() <= 16 || key.substr(16) == o.key.substr(16));
  }
};

// The entries of a table, with their prefixes, appended to `out`. The pieces lie scattered over
// the text, a cache miss each, so the entries are gathered first and each piece's first bytes are
// asked for a few entries before its prefix is read.
template <typename Table>
void AppendEntries(const Table& table, std::vector<Entry>& out) {
  const size_t from = out.size();
  for (const auto& [key, count] : table) out.push_back({0, 0, key, count});
  constexpr size_t kAhead = 16;
  for (size_t i = from; i < out.size(); ++i) {
    if (i + kAhead < out.size()) __builtin_prefetch(out[i + kAhead].key.data());
    out[i].prefix = Entry::Word(out[i].key, 0);
    out[i].next = Entry::Word(out[i].key, 8);
  }
}

// Sorts the entries by bytes. The (prefix, index) pairs are radix-sorted by prefix, a byte at a
// time from the lowest (a byte that is the same in every prefix is skipped); then each run of equal
// prefixes (pieces that share their first 8 bytes: one in six on gutenberg93, and with several
// threads every piece that more than one thread counted) is sorted by the next 8 bytes and the
// length, reading the pieces' bytes only past 16 bytes, and the entries are put in that order.
// std::sort of the entries took 19-20 ms of counting's 30 ms tail on gutenberg93 (173k distinct
// pieces; std::sort of the prefixes alone took 11 ms). With this sort and the prefixes read ahead
// (AppendEntries), the tail took 17-19 ms on 1 thread and 15-17 on 2, and CountWords 485 ms against
// 508 on 1 thread and 269 against 292 on 2 (in-process, 15 alternated runs, medians).
void SortEntries(std::vector<Entry>& entries) {
  const size_t n = entries.size();
  if (n > UINT32_MAX) {
    std::sort(entries.begin(), entries.end());
    return;
  }
  struct Keyed {
    uint64_t prefix, next;
    uint32_t index;
    uint32_t size;  // of the piece, at most UINT32_MAX (enough to tell sizes up to 16 from larger)
  };
  std::vector<Keyed> keyed(n), scratch(n);
  std::array<std::array<uint32_t, 256>, 8> histogram{};
  for (size_t i = 0; i < n; ++i) {
    const Entry& e = entries[i];
    keyed[i] = {e.prefix, e.next, static_cast<uint32_t>(i),
                static_cast<uint32_t>(std::min<size_t>(e.key.size(), UINT32_MAX))};
    for (int d = 0; d < 8; ++d) ++histogram[d][(e.prefix >> (8 * d)) & 0xFF];
  }
  for (int d = 0; d < 8 && n > 0; ++d) {
    std::array<uint32_t, 256>& start = histogram[d];
    if (start[(keyed[0].prefix >> (8 * d)) & 0xFF] == n) continue;  // the same byte in every prefix
    uint32_t sum = 0;
    for (uint32_t& c : start) sum += std::exchange(c, sum);
    for (const Keyed& k : keyed) scratch[start[(k.prefix >> (8 * d)) & 0xFF]++] = k;
    keyed.swap(scratch);
  }
  auto less = [&](const Keyed& x, const Keyed& y) {
    return Entry::LessAfterPrefix(x.next, x.size, y.next, y.size, [&] {
      return entries[x.index].key.substr(16) < entries[y.index].key.substr(16);
    });
  };
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && keyed[j].prefix == keyed[i].prefix) ++j;
    if (j - i > 1) std::sort(keyed.begin() + static_cast<ptrdiff_t>(i), keyed.begin() + static_cast<ptrdiff_t>(j), less);
    i = j;
  }
  std::vector<Entry> sorted(n);
  for (size_t i = 0; i < n; ++i) sorted[i] = entries[keyed[i].index];
  entries.swap(sorted);
}

// Sorts the entries by bytes and adds up the counts of equal keys (one per table at most) into the
// first entry of each run; the runs' first entries are moved to the front. Returns how many there
// are.
size_t SortAndSum(std::vector<Entry>& entries) {
  SortEntries(entries);
  size_t out = 0;
  for (size_t i = 0; i < entries.size();) {
    size_t j = i + 1;
    uint64_t sum = entries[i].count;
    for (; j < entries.size() && entries[j].SameKey(entries[i]); ++j) sum += entries[j].count;
    entries[out] = entries[i];
    entries[out++].count = sum;
    i = j;
  }
  return out;
}

// Copies the first n entries' pieces and counts to out[0..n). The pieces lie scattered over the
// text, so each is asked for a few entries ahead.
void CopyOut(const std::vector<Entry>& entries, size_t n, WordCount* out) {
  constexpr size_t kAhead = 8;
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) __builtin_prefetch(entries[i + kAhead].key.data());
    out[i].word.assign(entries[i].key);
    out[i].count = entries[i].count;
  }
}

// The tables' pieces with their summed counts, sorted by bytes. With several threads each table's
// entries are gathered by one thread (its own, in CountWords: the keys it touches are still in that
// core's cache), the prefixes are cut into one range per thread at splitters taken from a sample of
// them, and each thread takes its range's entries from every table, sorts and sums them; the ranges
// are concatenated in order. Equal keys have equal prefixes, so they meet in one range. The result
// is the same for any thread count (the order is the bytes', the sums are exact).
template <typename Table>
WordCounts SortedCounts(const std::vector<const Table*>& tables, int threads) {
  size_t total = 0;
  for (const Table* t : tables) total += t->size();
  constexpr size_t kParallelFrom = 1 << 14;  // fewer keys: one thread sorts them faster than two start
  if (threads <= 1 || total < kParallelFrom) {
    // One allocation: regrowing the buffer slowed the trainer run after it by a third (the
    // allocator then handed it fresh pages to fault in).
    std::vector<Entry> entries;
    entries.reserve(total);
    for (const Table* t : tables) AppendEntries(*t, entries);
    WordCounts counts(SortAndSum(entries));
    CopyOut(entries, counts.size(), counts.data());
    return counts;
  }
  std::vector<Padded<std::vector<Entry>>> gathered(tables.size());
  RunParallel(tables.size(), [&](size_t t) {
    gathered[t].value.reserve(tables[t]->size());
    AppendEntries(*tables[t], gathered[t].value);
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

  // Each thread takes its range from every table's entries, sorts and sums it; then the pieces are
  // copied out, each range's by its thread, straight to its place in the result (no moves of a
  // range's result after).
  std::vector<Padded<std::vector<Entry>>> ranges(parts);
  std::vector<size_t> sizes(parts + 1);  // then: where range p starts in the result
  RunParallel(parts, [&](size_t p) {
    const uint64_t low = p == 0 ? 0 : cuts[p - 1];
    const bool last = p + 1 == parts;
    const uint64_t high = last ? 0 : cuts[p];
    std::vector<Entry>& entries = ranges[p].value;
    entries.reserve(total / parts + total / (4 * parts));
    for (const auto& g : gathered) {
      for (const Entry& e : g.value) {
        if (e.prefix >= low && (last || e.prefix < high)) entries.push_back(e);
      }
    }
    sizes[p + 1] = SortAndSum(entries);
  });
  for (size_t p = 0; p < parts; ++p) sizes[p + 1] += sizes[p];
  WordCounts counts(sizes[parts]);
  RunParallel(parts, [&](size_t p) { CopyOut(ranges[p].value, sizes[p + 1] - sizes[p], counts.data() + sizes[p]); });
  return counts;
}

}  // namespace

WordCounts CountWords(std::string_view text, const PreTokenizer& pre, int threads) {
  // Sorted by bytes, so the result does not depend on hash order or thread count.
  const std::vector<Padded<PieceTable>> tables = CountParallel(text, pre, threads);
  std::vector<const PieceTable*> views;
  for (const auto& t : tables) views.push_back(&t.value);
  return SortedCounts(views, threads);
}

WordCounter::WordCounter(const PreTokenizer& pre, int threads)
    : pre_(pre), threads_(std::max(threads, 1)) {}

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

// Adds per-thread tables of views into the text to the counter's tables, which own their pieces:
// table p takes the pieces whose hash is p modulo the tables, each on its own thread, so no thread
// waits while one adds a block's counts (on web-like text, with millions of distinct pieces, a
// sixth of counting in a profile on 2 threads; against one thread adding them, the 2-thread times
// on 300 MB of it are within this VM's noise).
template <typename Tables>
void WordCounter::Absorb(const Tables& tables) {
  const size_t parts = static_cast<size_t>(threads_);
  if (tables_.size() < parts) tables_.resize(parts);
  RunParallel(parts, [&](size_t p) {
    Table& mine = tables_[p].value;
    for (const auto& part : tables) {
      for (const auto& [piece, count] : part.value) {
        if (parts > 1 && StringHash{}(piece) % parts != p) continue;
        if (auto it = mine.find(piece); it != mine.end()) {
          it->second += count;
        } else {
          mine.emplace(std::string(piece), count);
        }
      }
    }
  });
}

void WordCounter::CountPrefix(size_t end) {
  Absorb(CountParallel(std::string_view(carry_.data(), end), pre_, threads_));
  offset_ += end;
}

void WordCounter::AddDocuments(std::span<const std::string_view> documents) {
  if (!carry_.empty()) CountPrefix(carry_.size());
  carry_.clear();
  scanned_ = 0;
  // Documents are taken in turn by the threads (kChunksPerThread's reasoning: a slow one takes
  // fewer), in runs of a few so that the shared counter is not touched per short document.
  const size_t workers = std::min(static_cast<size_t>(threads_), std::max<size_t>(documents.size() / 16, 1));
  std::vector<Padded<PieceTable>> tables(workers);
  std::atomic<size_t> next{0};
  constexpr size_t kRun = 16;
  RunParallel(workers, [&](size_t t) {
    for (size_t i; (i = next.fetch_add(kRun, std::memory_order_relaxed)) < documents.size();) {
      for (size_t j = i; j < std::min(i + kRun, documents.size()); ++j) {
        if (!documents[j].empty()) CountChunk(documents[j], pre_, tables[t].value);
      }
    }
  });
  Absorb(tables);
  for (std::string_view d : documents) offset_ += d.size();
}

WordCounts WordCounter::Finish() {
  if (!carry_.empty()) CountPrefix(carry_.size());
  carry_.clear();
  carry_.shrink_to_fit();
  std::vector<const Table*> views;
  for (const auto& t : tables_) views.push_back(&t.value);
  WordCounts counts = SortedCounts(views, threads_);
  tables_.clear();
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

#include "algorithms/core/text.h"

#include <boost/unordered/unordered_flat_map.hpp>
#include <algorithm>
#include <thread>

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

// Counts each chunk of text into its own table (views into text: no copies of the pieces yet), then
// merges the tables into the first.
PieceTable CountParallel(std::string_view text, const PreTokenizer& pre, int threads) {
  const auto chunks = SplitAtSafeBoundaries(text, pre, static_cast<size_t>(std::max(threads, 1)));
  std::vector<PieceTable> tables(chunks.size());
  if (chunks.size() == 1) {
    CountChunk(chunks[0], pre, tables[0]);
  } else {
    std::vector<std::jthread> workers;
    for (size_t i = 0; i < chunks.size(); ++i) {
      workers.emplace_back([&, i] { CountChunk(chunks[i], pre, tables[i]); });
    }
  }
  for (size_t i = 1; i < tables.size(); ++i) {
    for (const auto& [piece, count] : tables[i]) tables[0][piece] += count;
  }
  return std::move(tables[0]);
}

template <typename Table>
WordCounts SortedCounts(const Table& table) {
  WordCounts counts;
  counts.reserve(table.size());
  for (const auto& [piece, count] : table) counts.push_back({std::string(piece), count});
  std::sort(counts.begin(), counts.end(),
            [](const WordCount& a, const WordCount& b) { return a.word < b.word; });
  return counts;
}

}  // namespace

WordCounts CountWords(std::string_view text, const PreTokenizer& pre, int threads) {
  // Sorted by bytes, so the result does not depend on hash order or thread count.
  return SortedCounts(CountParallel(text, pre, threads));
}

WordCounter::WordCounter(const PreTokenizer& pre, int threads)
    : pre_(pre), threads_(std::max(threads, 1)) {}

// The last safe boundary in carry_ at or after `from` (>= 1), or 0 when there is none.
size_t WordCounter::LastBoundary(size_t from) const {
  size_t last = 0;
  for (size_t p = pre_.SafeBoundary(carry_, from); p < carry_.size(); p = pre_.SafeBoundary(carry_, p + 1)) {
    last = p;
  }
  return last;
}

void WordCounter::Add(std::string_view bytes) {
  carry_.append(bytes);
  // Look for the cut in the last 1 MiB first (text has boundaries every few bytes), and only when
  // there is none walk from where the previous search stopped: a long run without one is scanned
  // about once, not once per block.
  constexpr size_t kTail = 1 << 20;
  const size_t from = std::max<size_t>(scanned_, 1);
  size_t cut = carry_.size() > from + kTail ? LastBoundary(carry_.size() - kTail) : 0;
  if (cut == 0) cut = LastBoundary(from);
  if (cut > 0) {
    CountPrefix(cut);
    carry_.erase(0, cut);
  }
  scanned_ = carry_.size();  // the rest holds no boundary (its first byte is one, or is byte 0)
}

void WordCounter::CountPrefix(size_t end) {
  const std::string_view text(carry_.data(), end);
  for (const auto& [piece, count] : CountParallel(text, pre_, threads_)) {
    if (auto it = table_.find(piece); it != table_.end()) {
      it->second += count;
    } else {
      table_.emplace(std::string(piece), count);
    }
  }
  offset_ += end;
}

WordCounts WordCounter::Finish() {
  if (!carry_.empty()) CountPrefix(carry_.size());
  carry_.clear();
  carry_.shrink_to_fit();
  WordCounts counts = SortedCounts(table_);
  table_ = {};
  return counts;
}

void EncodeChunk(std::string_view text, const PreTokenizer& pre, Encoder& encoder,
                 std::vector<TokenId>& out) {
  encoder.EncodeChunk(text, pre, out);
}

std::vector<TokenId> EncodeText(std::string_view text, const PreTokenizer& pre,
                                const EncoderInfo& info, const Vocabulary& vocab, int threads) {
  const auto chunks = SplitAtSafeBoundaries(text, pre, static_cast<size_t>(std::max(threads, 1)));
  // One output vector per chunk: separate heap blocks, so threads never share a cache line.
  std::vector<std::vector<TokenId>> parts(chunks.size());
  auto work = [&](size_t i) {
    auto encoder = info.make(vocab);
    parts[i].reserve(chunks[i].size() / 3);
    EncodeChunk(chunks[i], pre, *encoder, parts[i]);
  };
  if (chunks.size() == 1) {
    work(0);
    return std::move(parts[0]);
  }
  {
    // The calling thread takes the first chunk: one thread fewer to start, and its ids are already
    // where the result goes.
    std::vector<std::jthread> workers;
    for (size_t i = 1; i < chunks.size(); ++i) workers.emplace_back(work, i);
    work(0);
  }
  size_t total = 0;
  for (const auto& p : parts) total += p.size();
  std::vector<TokenId> ids = std::move(parts[0]);
  ids.reserve(total);
  for (size_t i = 1; i < parts.size(); ++i) ids.insert(ids.end(), parts[i].begin(), parts[i].end());
  return ids;
}

}  // namespace bpe

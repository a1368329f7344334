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

}  // namespace

WordCounts CountWords(std::string_view text, const PreTokenizer& pre, int threads) {
  // 1. Count each chunk into its own table (views into text: no copies of the pieces yet).
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
  // 2. Merge the tables into the first.
  for (size_t i = 1; i < tables.size(); ++i) {
    for (const auto& [piece, count] : tables[i]) tables[0][piece] += count;
  }
  // 3. Copy out, sorted by bytes so the result does not depend on hash order or thread count.
  WordCounts counts;
  counts.reserve(tables[0].size());
  for (const auto& [piece, count] : tables[0]) counts.push_back({std::string(piece), count});
  std::sort(counts.begin(), counts.end(),
            [](const WordCount& a, const WordCount& b) { return a.word < b.word; });
  return counts;
}

void EncodeChunk(std::string_view text, const PreTokenizer& pre, Encoder& encoder,
                 std::vector<TokenId>& out) {
  pre.ForEachPiece(text, [&](std::string_view piece) { encoder.EncodePiece(piece, out); });
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
    std::vector<std::jthread> workers;
    for (size_t i = 0; i < chunks.size(); ++i) workers.emplace_back(work, i);
  }
  size_t total = 0;
  for (const auto& p : parts) total += p.size();
  std::vector<TokenId> ids;
  ids.reserve(total);
  for (const auto& p : parts) ids.insert(ids.end(), p.begin(), p.end());
  return ids;
}

}  // namespace bpe

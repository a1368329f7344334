// Word-count tables: what `bpebench count` writes and `bpebench train --counts` reads, so that
// counting (embarrassingly parallel: one table per shard, on as many machines as there are shards)
// and the merge loop (on the summed counts, which are small) can run apart.
//
//   # bpebench counts 1 pretokenizer=gpt2 pieces=3
//   <TAB>,<TAB>2
//    the<TAB>5
//   hello<TAB>1
//
// One line per distinct piece: the piece, a tab, its count (decimal, 1..2^64-1). Pieces are sorted by
// their bytes, so tables of shards merge line by line. A piece is written as its UTF-8 text, with
// backslash escapes for '\' (\\), tab (\t), newline (\n), carriage return (\r), other control bytes
// and every byte of a piece that is not valid UTF-8 (\xHH).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "algorithms/core/types.h"

namespace bpe {

std::string SerializeCounts(const WordCounts& counts, std::string_view pretokenizer);

struct CountTable {
  std::string pretokenizer;
  WordCounts counts;  // as written in the file
};
// Parses a table; errors (bpe::Error) name `source` and the line.
CountTable ParseCounts(std::string_view text, std::string_view source);

// The tables summed piece by piece, sorted by bytes: the counts of the shards' text taken together.
// A sum beyond 64 bits is an error.
WordCounts SumCounts(const std::vector<const WordCounts*>& tables);

}  // namespace bpe

// What the position-based trainers (`linked`, `sharded`) share: the symbol array, a pair table with
// each pair's occurrence positions, and one merge's visit of those positions with its count changes
// summed per neighbour token.
//
// The symbols: every distinct piece of two or more bytes, end to end. A symbol is its token and its
// links to its neighbours (12 bytes, or 8 where every piece is at most 65,536 bytes: ShortSymbol),
// so a visit reads one cache line per symbol and unlinks the merged one in O(1). The count of a
// symbol's piece comes from runs of equal counts (PieceWeights), not from an index per symbol.
//
// A merge (a,b) -> z visits the recorded positions of (a,b), skips the stale ones, and notes the
// count changes around each live occurrence of weight w, with x and y its neighbours: (x,a) -w and
// (x,z) +w, (b,y) -w and (z,y) +w. The changes are summed per neighbour token in small tables
// (`MergeChanges`: one entry per distinct x or y, where the occurrences run to thousands), so the
// pair maps are touched once per entry when the merge ends; a new pair's positions go straight to
// its slot, found once per merge.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "algorithms/core/error.h"
#include "algorithms/runtime/parallel.h"
#include "algorithms/core/types.h"

namespace bpe::occurrences {

inline constexpr uint32_t kNone = UINT32_MAX;  // no neighbour (a piece boundary); no slot
inline constexpr TokenId kDead = UINT32_MAX;   // a symbol merged into its left neighbour

// A symbol with its neighbours' indexes: 12 bytes, for pieces of any length.
struct Symbol {
  TokenId tok;
  uint32_t prev, next;  // kNone at the piece's ends

  uint32_t Prev(uint32_t) const { return prev; }
  uint32_t Next(uint32_t) const { return next; }
  void SetPrev(uint32_t, uint32_t p) { prev = p; }
  void SetNext(uint32_t, uint32_t n) { next = n; }
};

// A symbol with its neighbours' distances in 16 bits: 8 bytes, for pieces of up to 65,536 bytes
// (a neighbour is in the same piece). The pieces of text (words, numbers, runs of spaces) are all
// that short, and the symbols are most of a trainer's memory on web-like text: 1.2 GB against 1.8
// for the 150 million symbols of the 15 million pieces of 1 GB of it.
struct ShortSymbol {
  TokenId tok;
  uint16_t back, ahead;  // 0 at the piece's ends

  static constexpr uint64_t kMaxPiece = 65536;
  uint32_t Prev(uint32_t i) const { return back == 0 ? kNone : i - back; }
  uint32_t Next(uint32_t i) const { return ahead == 0 ? kNone : i + ahead; }
  void SetPrev(uint32_t i, uint32_t p) { back = p == kNone ? 0 : static_cast<uint16_t>(i - p); }
  void SetNext(uint32_t i, uint32_t n) { ahead = n == kNone ? 0 : static_cast<uint16_t>(n - i); }
};

// Whether every piece fits ShortSymbol's 16-bit links (the trainers then run on ShortSymbol, else on
// Symbol). Each trainer dispatches on it itself: a function template over their runs (class
// templates in anonymous namespaces of different files, of the same name) would be one weak
// symbol for both, as GCC mangles it, and the linker would keep one trainer's run for both.
inline bool FitsShortSymbols(const WordCounts& counts) {
  uint64_t longest = 0;
  for (const WordCount& wc : counts) longest = std::max<uint64_t>(longest, wc.word.size());
  return longest <= ShortSymbol::kMaxPiece;
}

// Lays out a piece as symbols from sym[at], linked to each other only.
template <typename S>
void LayOut(std::vector<S>& sym, std::string_view piece, uint32_t at) {
  for (uint32_t i = 0; i < piece.size(); ++i) {
    S& s = sym[at + i];
    s.tok = static_cast<uint8_t>(piece[i]);
    s.SetPrev(at + i, i == 0 ? kNone : at + i - 1);
    s.SetNext(at + i, i + 1 == piece.size() ? kNone : at + i + 1);
  }
}

// The weight (count) of the piece a symbol belongs to, without an index per symbol. The pieces are
// laid out by count, largest first (OrderByCount), so the symbols of equal weight form runs: one
// run a distinct count, a few tens of thousands on web-like text with millions of pieces, most of
// the symbols in the few runs of the rarest counts. A symbol's run is found from a table of the run
// each block of 2^kBlockShift symbols starts in, and among the runs that start in its block (one in
// nearly every block; dozens where the most frequent pieces lie, each its own run) by binary
// search. The tables take 1/64 byte a symbol and a few hundred kilobytes, where an index per
// symbol took 4 bytes of every byte of the pieces (600 MB for the 15 million pieces of 1 GB of
// web-like text) and a weight per piece was a cache miss at every occurrence visited. The cost is
// in instructions: on gutenberg5 (32,000 pieces, all in the caches) training took 9% more of them
// than with an index per symbol (the order by count, the search, the 16-bit links); blocks of 8 or
// 1024 symbols counted the same.
class PieceWeights {
 public:
  // Adds a piece of `weight` whose symbols start at `at` (pieces are added in layout order).
  void Add(uint32_t at, uint64_t weight) {
    if (weight_.empty() || weight_.back() != weight) {
      start_.push_back(at);
      weight_.push_back(weight);
    }
  }
  // After the last piece: `symbols` in all.
  void Finish(uint64_t symbols) {
    start_.push_back(static_cast<uint32_t>(symbols));  // the end of the last run
    block_.assign((symbols >> kBlockShift) + 2, 0);
    size_t run = 0;
    for (size_t b = 0; b < block_.size(); ++b) {
      const uint64_t first = uint64_t{b} << kBlockShift;
      while (run + 1 < weight_.size() && start_[run + 1] <= first) ++run;
      block_[b] = static_cast<uint32_t>(run);
    }
  }
  size_t bytes() const {
    return start_.capacity() * sizeof(uint32_t) + weight_.capacity() * sizeof(uint64_t) + block_.capacity() * sizeof(uint32_t);
  }
  uint64_t Of(uint32_t symbol) const {
    const size_t b = symbol >> kBlockShift;
    uint32_t lo = block_[b], hi = block_[b + 1];  // the run is in [lo, hi]
    while (lo < hi) {
      const uint32_t mid = (lo + hi + 1) / 2;
      if (start_[mid] <= symbol) lo = mid; else hi = mid - 1;
    }
    return weight_[lo];
  }

 private:
  static constexpr int kBlockShift = 8;
  std::vector<uint32_t> start_;   // per run: its first symbol; then the end of the last
  std::vector<uint64_t> weight_;  // per run
  std::vector<uint32_t> block_;   // per block of symbols: the run its first symbol is in
};

// Orders pieces by count, largest first (for PieceWeights' runs): a counting sort by count up to
// 2^16, and std::sort for the few larger counts. Pieces of equal count keep their order.
inline void OrderByCount(std::vector<const WordCount*>& pieces) {
  constexpr uint64_t kBuckets = uint64_t{1} << 12;  // bucket kBuckets - 1: counts from there up
  std::vector<size_t> start(kBuckets + 1, 0);
  auto bucket = [&](const WordCount* wc) { return kBuckets - 1 - std::min(wc->count, kBuckets - 1); };
  for (const WordCount* wc : pieces) ++start[bucket(wc) + 1];
  for (size_t b = 0; b < kBuckets; ++b) start[b + 1] += start[b];
  std::vector<const WordCount*> ordered(pieces.size());
  for (const WordCount* wc : pieces) ordered[start[bucket(wc)]++] = wc;
  // Bucket 0 (the counts from kBuckets - 1 up) is first: its own order by count.
  const size_t large = start[0];
  std::stable_sort(ordered.begin(), ordered.begin() + static_cast<ptrdiff_t>(large),
                   [](const WordCount* a, const WordCount* b) { return a->count > b->count; });
  pieces.swap(ordered);
}

// The pairs' position lists. A list is a block of 32-bit entries with a power-of-two capacity (or
// the exact size it was reserved at, when larger than a pooled block); a full one moves to a block
// twice as large. Blocks of up to kPooledMax entries are cut from 4 MiB
// segments, and a freed one goes on the free list of its size for the next list of that size;
// larger blocks are allocated one by one, so that the memory of a huge list (one long piece) goes
// back to malloc for any size when it is freed. One std::vector per pair cost a malloc, a copy into
// fresh memory (and its page faults) at every growth and a free per pair gone: about a fifth of
// `linked`'s time on gutenberg93 (perf; 0.79-0.84x the time with the pool). Blocks never move but to grow, so a list taken out of its pair can be read while other
// lists grow.
class PositionPool {
 public:
  struct List {
    uint32_t* data = nullptr;
    uint32_t size = 0;      // entries used
    uint32_t capacity = 0;  // a power of two; 0: no block
  };

  PositionPool() = default;
  PositionPool(const PositionPool&) = delete;
  PositionPool& operator=(const PositionPool&) = delete;
  ~PositionPool() {
    for (uint32_t* block : large_) delete[] block;
  }

  // Appends `position` to `list`.
  void Push(List& list, uint32_t position) {
    if (list.size == list.capacity) {
      const uint32_t c = list.capacity;
      Move(list, c == 0 ? kSmallest : c <= kLargest / 2 ? 2 * c : c < kLargest ? kLargest : 0);
    }
    list.data[list.size++] = position;
  }
  // Gives `list` (emptied) a block for at least n entries: exactly n when that is more than
  // kPooledMax (the first lists, of byte pairs, are built at their final sizes: a power of two
  // would leave a third of their memory unused on average).
  void Reserve(List& list, uint32_t n) {
    Free(list);
    Move(list, n > kLargest ? 0 : n > kPooledMax ? n : std::max(kSmallest, std::bit_ceil(n)));
  }
  // Bytes held: the segments (used or free) and the larger blocks.
  size_t bytes() const { return bytes_; }
  void Free(List& list) {
    if (list.capacity > kPooledMax) {
      large_.erase(list.data);
      delete[] list.data;
      bytes_ -= size_t{list.capacity} * sizeof(uint32_t);
    } else if (list.capacity != 0) {
      free_[std::countr_zero(list.capacity)].push_back(list.data);
    }
    list = {};
  }

 private:
  static constexpr uint32_t kSmallest = 4;
  static constexpr uint32_t kLargest = uint32_t{1} << 31;
  static constexpr uint32_t kPooledMax = uint32_t{1} << 14;
  static constexpr size_t kSegment = size_t{1} << 20;  // entries

  // Moves `list` to a new block of `capacity` entries (a power of two, or more than kPooledMax; at
  // most kLargest; 0: more).
  void Move(List& list, uint32_t capacity) {
    if (capacity == 0) Fail("a pair has more than 2^31 recorded positions; this trainer handles fewer");
    uint32_t* block;
    if (capacity > kPooledMax) {
      large_.reserve(large_.size() + 1);  // so that the insert below cannot throw and leak the block
      block = new uint32_t[capacity];
      large_.insert(block);
      bytes_ += size_t{capacity} * sizeof(uint32_t);
    } else if (std::vector<uint32_t*>& free = free_[std::countr_zero(capacity)]; !free.empty()) {
      block = free.back();
      free.pop_back();
    } else {
      if (segment_left_ < capacity) {
        segments_.push_back(std::make_unique_for_overwrite<uint32_t[]>(kSegment));
        bytes_ += kSegment * sizeof(uint32_t);
        segment_next_ = segments_.back().get();
        segment_left_ = kSegment;
      }
      block = segment_next_;
      segment_next_ += capacity;
      segment_left_ -= capacity;
    }
    std::copy(list.data, list.data + list.size, block);
    const uint32_t size = list.size;
    Free(list);
    list = {block, size, capacity};
  }

  std::vector<std::unique_ptr<uint32_t[]>> segments_;
  size_t bytes_ = 0;  // of the segments and the larger blocks
  uint32_t* segment_next_ = nullptr;  // the unused rest of the last segment
  size_t segment_left_ = 0;
  std::array<std::vector<uint32_t*>, 15> free_;  // by log2 of the capacity: free pooled blocks
  boost::unordered_flat_set<uint32_t*> large_;    // the larger blocks, freed with the pool
};

struct PairData {
  uint64_t count = 0;
  PositionPool::List positions;  // of its occurrences' left symbols, ascending; may hold stale ones
};

// An array that grows by chunks of 2^16 elements, which never move: no copy and no spare half when
// it grows, where a std::vector doubles (at 1 GB of web-like text the pair table's slots reach
// 11 million while the merges run, and a doubling would hold 1.5 times the old and new arrays).
template <typename T>
class ChunkedArray {
 public:
  size_t size() const { return size_; }
  size_t bytes() const { return chunks_.size() * kChunk * sizeof(T) + chunks_.capacity() * sizeof(chunks_[0]); }
  T& operator[](size_t i) { return chunks_[i >> kShift][i & (kChunk - 1)]; }
  const T& operator[](size_t i) const { return chunks_[i >> kShift][i & (kChunk - 1)]; }
  void push_back(const T& value) {
    if (size_ == chunks_.size() * kChunk) chunks_.push_back(std::make_unique<T[]>(kChunk));
    (*this)[size_++] = value;
  }

 private:
  static constexpr int kShift = 16;
  static constexpr size_t kChunk = size_t{1} << kShift;
  std::vector<std::unique_ptr<T[]>> chunks_;
  size_t size_ = 0;
};

// Pair -> slot -> PairData. Slots are reused after a pair goes.
class PairTable {
 public:
  // The slot of a pair, made (count 0, no positions) if the pair has none.
  uint32_t SlotOf(uint64_t key) {
    const auto [it, made] = index_.try_emplace(key, 0);
    if (made) {
      if (free_.empty()) {
        it->second = static_cast<uint32_t>(slots_.size());
        slots_.push_back({});
        keys_.push_back(key);
      } else {
        it->second = free_.back();
        free_.pop_back();
        keys_[it->second] = key;
      }
    }
    return it->second;
  }
  uint32_t Find(uint64_t key) const {
    const auto it = index_.find(key);
    return it == index_.end() ? kNone : it->second;
  }
  // Drops the pair of a slot with its positions. Released slots read as such in released().
  void Release(uint32_t slot) {
    index_.erase(keys_[slot]);
    PairData& d = slots_[slot];
    d.count = 0;
    pool_.Free(d.positions);
    keys_[slot] = kNoKey;
    free_.push_back(slot);
  }
  bool released(uint32_t slot) const { return keys_[slot] == kNoKey; }
  // A position of an occurrence of the slot's pair, at the end of its list.
  void AddPosition(uint32_t slot, uint32_t position) { pool_.Push(slots_[slot].positions, position); }
  size_t positions(uint32_t slot) const { return slots_[slot].positions.size; }
  // Releases the slot but for its position list, which the caller frees (pool().Free) when done.
  PositionPool::List TakePositions(uint32_t slot) {
    const PositionPool::List list = std::exchange(slots_[slot].positions, {});
    Release(slot);
    return list;
  }
  PositionPool& pool() { return pool_; }
  const PositionPool& pool() const { return pool_; }
  // Bytes of the index and the slots (the position lists are the pool's).
  size_t bytes() const {
    return index_.bucket_count() * (sizeof(std::pair<uint64_t, uint32_t>) + 1) + slots_.bytes() + keys_.bytes() +
           free_.capacity() * sizeof(uint32_t);
  }
  PairData& operator[](uint32_t slot) { return slots_[slot]; }
  const PairData& operator[](uint32_t slot) const { return slots_[slot]; }
  uint64_t key(uint32_t slot) const { return keys_[slot]; }
  // pair key -> slot, for building the first heap.
  const boost::unordered_flat_map<uint64_t, uint32_t>& index() const { return index_; }

 private:
  static constexpr uint64_t kNoKey = UINT64_MAX;  // a free slot's key (no pair packs to it)

  boost::unordered_flat_map<uint64_t, uint32_t> index_;
  ChunkedArray<PairData> slots_;
  ChunkedArray<uint64_t> keys_;  // per slot: its pair's key, kNoKey when free
  std::vector<uint32_t> free_;
  PositionPool pool_;
};

// Orders `pieces` (each of two or more bytes, `bytes` in all) by count (OrderByCount), lays them
// out in `sym` in that order with their counts in `weight`, and fills `table` (empty) with their
// pairs: counts and positions, ascending. Merges do not depend on the order of the pieces, only on
// the order of symbols within each. The pairs are of bytes yet, so they are counted in an array indexed by the two bytes,
// and each position list gets a block of its final size before it is filled. The pairs are read
// from the pieces' bytes, not the symbols, so with `two_threads` one thread lays out the symbols
// while the calling thread builds the pair table.
template <typename S>
void BuildFirstPairs(std::vector<const WordCount*>& pieces, uint64_t bytes, std::vector<S>& sym, PieceWeights& weight,
                     PairTable& table, bool two_threads = false) {
  OrderByCount(pieces);
  auto lay_out = [&] {
    sym.resize(bytes);
    uint32_t at = 0;
    for (const WordCount* wc : pieces) {
      LayOut(sym, wc->word, at);
      weight.Add(at, wc->count);
      at += static_cast<uint32_t>(wc->word.size());
    }
    weight.Finish(bytes);
  };
  auto build_pairs = [&] {
    struct First {
      uint64_t count = 0;
      uint32_t positions = 0;
      uint32_t slot = kNone;
    };
    std::vector<First> first(size_t{1} << 16);
    auto key = [](std::string_view piece, size_t i) {
      return static_cast<uint8_t>(piece[i]) << 8 | static_cast<uint8_t>(piece[i + 1]);
    };
    for (const WordCount* wc : pieces) {
      for (size_t i = 0; i + 1 < wc->word.size(); ++i) {
        First& f = first[key(wc->word, i)];
        f.count += wc->count;
        ++f.positions;
      }
    }
    for (uint32_t k = 0; k < first.size(); ++k) {
      First& f = first[k];
      if (f.positions == 0) continue;
      f.slot = table.SlotOf(PairKey({k >> 8, k & 0xFF}));
      table[f.slot].count = f.count;
      table.pool().Reserve(table[f.slot].positions, f.positions);
    }
    uint32_t at = 0;
    for (const WordCount* wc : pieces) {
      for (size_t i = 0; i + 1 < wc->word.size(); ++i) {
        table.AddPosition(first[key(wc->word, i)].slot, at + static_cast<uint32_t>(i));
      }
      at += static_cast<uint32_t>(wc->word.size());
    }
  };
  if (two_threads) {
    RunParallel(2, [&](size_t t) { t == 0 ? build_pairs() : lay_out(); });
  } else {
    lay_out();
    build_pairs();
  }
}

// The summed change of one merge to the pairs that share one neighbour token. Counts are
// unsigned: a change is kept modulo 2^64, which adds up to the right count because the true count
// never goes below zero.
struct Change {
  uint64_t delta = 0;
  uint32_t slot = kNone;  // the pair's slot (new pairs only: found at the first touch)
};

// The changes of one merge to one family of pairs, keyed by the token that varies: a small open-
// addressing table sized for the merge (at most half full), which stays in the L1 cache where an
// array indexed by token id would be megabytes at large vocabularies (in-process A/B on gutenberg5
// at vocab 50000: 0.82-0.85x the training time of such arrays; about even at 1000-10000). Only
// the slots used are cleared for the next merge.
class Changes {
 public:
  // Makes the table empty and large enough for `keys` distinct tokens.
  void Reset(size_t keys) {
    for (const uint32_t i : touched_) keys_[i] = kEmpty;
    touched_.clear();
    size_t size = 16;
    while (size < 2 * keys) size *= 2;
    if (size > keys_.size()) {
      keys_.assign(size, kEmpty);
      values_.resize(size);
      shift_ = 64 - std::countr_zero(size);
    }
  }
  [[gnu::always_inline]] Change& At(TokenId t) {
    const size_t mask = keys_.size() - 1;
    for (size_t i = (t * 0x9E3779B97F4A7C15ULL) >> shift_;; i = (i + 1) & mask) {
      if (keys_[i] == t) return values_[i];
      if (keys_[i] == kEmpty) {
        keys_[i] = t;
        values_[i] = {};
        touched_.push_back(static_cast<uint32_t>(i));
        return values_[i];
      }
    }
  }
  // The change of a token touched since Reset; nullptr if none.
  const Change* Find(TokenId t) const {
    if (keys_.empty()) return nullptr;
    const size_t mask = keys_.size() - 1;
    for (size_t i = (t * 0x9E3779B97F4A7C15ULL) >> shift_;; i = (i + 1) & mask) {
      if (keys_[i] == t) return &values_[i];
      if (keys_[i] == kEmpty) return nullptr;
    }
  }
  // f(token, change) for each token touched since Reset, in the order of first touch.
  template <typename F>
  void ForEach(F&& f) const {
    for (const uint32_t i : touched_) f(keys_[i], values_[i]);
  }

 private:
  static constexpr TokenId kEmpty = UINT32_MAX;  // no token has this id
  std::vector<TokenId> keys_;
  std::vector<Change> values_;
  std::vector<uint32_t> touched_;  // used slots
  int shift_ = 60;
};

// One merge (a,b) -> z's changes: to (x,a) and (x,z) by x, to (b,y) and (z,y) by y. The new pairs'
// entries hold their slot in the table the positions went to.
struct MergeChanges {
  Changes left_old, left_new, right_old, right_new;
};

// How far ahead a visit prefetches. In-process on gutenberg93 (vocab 30000, `linked` from word
// counts, 11 alternated runs, medians): 186 ms against 206 ms without prefetching; 8, 32 and 64
// ahead measured the same as 16.
inline constexpr size_t kPrefetchAhead = 16;

// Visits `where` (the recorded positions of (a,b), ascending) in `table`'s pieces: every live
// occurrence becomes z, the changes are summed into `changes` (Reset here), and the new pairs get
// slots and positions in `table` (their counts are left to the caller). Where an earlier
// occurrence of this merge made the left neighbour z ("abab"), the pair that loses is (z,a), a new
// pair, so its change goes to (z,a)'s entry instead. Visited left to right, the right neighbour is
// never one this merge made; the (b,z) case keeps the sums right for any order all the same.
template <typename S>
void VisitOccurrences(std::vector<S>& sym, const PieceWeights& weight,
                             std::span<uint32_t> where, Pair pair, TokenId z,
                             PairTable& table, MergeChanges& changes) {
  const TokenId a = pair.left, b = pair.right;
  // Occurrences of (a,a) overlap in runs: they must be taken left to right ("aaa" -> [aa, a]). The
  // position lists are ascending already (the first ones are, and a merge appends in the order it
  // visits), so this only guards that order.
  if (a == b && !std::is_sorted(where.begin(), where.end())) std::sort(where.begin(), where.end());
  // An occurrence touches at most two entries per family (its neighbour's, and (z,a)'s or (b,z)'s),
  // and a family has at most z + 1 tokens.
  const size_t keys = std::min(2 * where.size(), size_t{z} + 1);
  for (Changes* c : {&changes.left_old, &changes.left_new, &changes.right_old, &changes.right_new}) {
    c->Reset(keys);
  }
  // A new pair (holding z) gains an occurrence at `position`.
  auto add_new = [&](Changes& family, TokenId t, uint64_t key, uint64_t w, uint32_t position) {
    Change& c = family.At(t);
    if (c.slot == kNone) c.slot = table.SlotOf(key);
    c.delta += w;
    table.AddPosition(c.slot, position);
  };
  // The positions are ascending but far apart (a pair's occurrences are spread over the pieces),
  // so nearly every symbol is a cache miss the hardware prefetcher cannot foresee. The visit asks
  // for the symbols kPrefetchAhead positions ahead (the first ones before it starts), so that many
  // misses are in flight at once.
  const size_t count = where.size();
  // An occurrence at i reads symbols i-1 to i+2, mostly (its neighbours are further away where
  // symbols were merged into them): 48 bytes, on one or two cache lines, so the lines of i-1 and i+2
  // are asked for. The addresses are computed as integers: at the array's ends they lie outside it,
  // which a prefetch may (it never faults), but pointer arithmetic may not. Bounding them instead
  // took 1.14x the time (in-process, gutenberg93, vocab 30000), where prefetching i-1 and i+2
  // rather than i and i+1 took 0.91-0.93x.
  const uintptr_t symbols = reinterpret_cast<uintptr_t>(sym.data());
  auto prefetch_symbol = [&](size_t k) {
    const uintptr_t s = symbols + where[k] * sizeof(S);
    __builtin_prefetch(reinterpret_cast<const void*>(s - sizeof(S)), 1);
    __builtin_prefetch(reinterpret_cast<const void*>(s + 2 * sizeof(S)), 1);
  };
  for (size_t k = 0; k < std::min(count, kPrefetchAhead); ++k) prefetch_symbol(k);
  for (size_t k = 0; k < count; ++k) {
    if (k + kPrefetchAhead < count) prefetch_symbol(k + kPrefetchAhead);
    const uint32_t i = where[k];
    S& si = sym[i];
    if (si.tok != a) continue;  // stale: this symbol changed or was merged
    const uint32_t j = si.Next(i);
    if (j == kNone) continue;
    S& sj = sym[j];
    if (sj.tok != b) continue;
    const uint64_t w = weight.Of(i);
    const uint32_t p = si.Prev(i), n = sj.Next(j);
    if (p != kNone) {
      const TokenId x = sym[p].tok;
      if (x != z) {
        changes.left_old.At(x).delta += w;
      } else {
        changes.right_new.At(a).delta -= w;  // (z,a), added by the occurrence just before
      }
      add_new(changes.left_new, x, PairKey({x, z}), w, p);
    }
    if (n != kNone) {
      const TokenId y = sym[n].tok;
      if (y != z) {
        changes.right_old.At(y).delta += w;
      } else {
        changes.left_new.At(b).delta -= w;  // (b,z), added by an occurrence to the right
      }
      add_new(changes.right_new, y, PairKey({z, y}), w, i);
    }
    si.tok = z;
    sj.tok = kDead;
    si.SetNext(i, n);
    if (n != kNone) sym[n].SetPrev(n, i);
  }
}

// f(key, delta) for each old pair that lost in the merge of `pair`: (x,a) and (b,y).
template <typename F>
void ForEachLost(const MergeChanges& changes, Pair pair, F&& f) {
  changes.left_old.ForEach([&](TokenId x, const Change& c) { f(PairKey({x, pair.left}), c.delta); });
  changes.right_old.ForEach([&](TokenId y, const Change& c) { f(PairKey({pair.right, y}), c.delta); });
}
// The old pairs that lost in the merge of `pair` lose their counts in `table`; never below zero,
// so a count that reaches zero has no live occurrence left: the pair and its stale positions go.
// All the slots are looked up first and their entries prefetched, so that their cache misses
// overlap (in-process on gutenberg93, vocab 30000, `linked`: 236 ms against 247 ms looked up one
// at a time). `scratch` is the caller's, kept to save allocations.
using LostScratch = std::vector<std::pair<uint32_t, uint64_t>>;  // slot, count lost
inline void ApplyLost(PairTable& table, const MergeChanges& changes, Pair pair, LostScratch& scratch) {
  scratch.clear();
  ForEachLost(changes, pair, [&](uint64_t key, uint64_t delta) { scratch.push_back({table.Find(key), delta}); });
  for (const auto& [slot, delta] : scratch) {
    if (slot != kNone) __builtin_prefetch(&table[slot], 1);
  }
  for (const auto& [slot, delta] : scratch) {
    if (slot != kNone && (table[slot].count -= delta) == 0) table.Release(slot);
  }
}

// f(key, slot, delta) for each new pair's entry in the merge into z: (x,z) and (z,y); (z,z) has one
// in each family, with the same slot.
template <typename F>
void ForEachGained(const MergeChanges& changes, TokenId z, F&& f) {
  changes.left_new.ForEach([&](TokenId x, const Change& c) { f(PairKey({x, z}), c.slot, c.delta); });
  changes.right_new.ForEach([&](TokenId y, const Change& c) { f(PairKey({z, y}), c.slot, c.delta); });
}

}  // namespace bpe::occurrences

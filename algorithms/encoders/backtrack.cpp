// Encoder `backtrack`: linear-time exact BPE without simulating the merges (the approach of
// GitHub's `bpe` crate and the "valid encoding" literature; this is our own code).
//
// Two facts make it work. (1) Every token in a BPE encoding is its own encoding: the merges inside
// a token's span never see its neighbours, so they run as when the token's bytes are encoded alone.
// Tokens whose bytes encode to something else (a later duplicate of an earlier token's bytes, say)
// never appear, and are left out here. (2) A sequence of such tokens is THE encoding of its bytes
// exactly when every adjacent pair is: encoding bytes(a) + bytes(b) gives a, b. That pair test
// needs no text: walk down a's right edge and b's left edge of their merge trees, undoing the
// later-formed of the two first, and fail if some pair across the boundary has a merge that would
// fire before the tokens on either side were formed (PairValid).
//
// So: take the longest token that is a prefix of the rest of the piece (a trie walk), shorten it
// (next_prefix) until it ends at a position not yet known dead and pairs validly with the token
// before it, and when even one byte fails, mark the current position dead and back off one token.
// Each position is marked dead at most once; in practice the first candidate almost always fits.
//
// A vocabulary whose tokens are too long to hold (Vocabulary: a hostile model's) keeps only the held
// tokens in the tables; a piece longer than the longest of them is encoded by merging (`heap`),
// since its encoding may hold a token the tables lack. Real vocabularies hold every token.
//
// Cost: O(n x longest token) trie steps in the worst case, O(n) on text; no per-token allocation
// (scratch vectors are reused). The tables (trie, splits, next_prefix) are derived once per
// vocabulary and shared by all instances (Vocabulary::Derived). The trie is a double array: a step
// is one add and one compare on a 12-byte slot, no hashing (encoding gutenberg5 at vocab 10000 ran
// 9% faster than with the hashed edges it replaced).
#include "algorithms/encoders/backtrack.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>

#include "algorithms/core/encoder.h"
#include "algorithms/core/error.h"
#include "algorithms/encoders/short_key.h"
#include "algorithms/runtime/flat_arrays.h"

namespace bpe {

std::unique_ptr<Encoder> MakeHybridEncoder(const Vocabulary&);
std::unique_ptr<Encoder> MakeHeapEncoder(const Vocabulary&);

namespace {

constexpr TokenId kNone = BacktrackEncoder::kNone;

// Per token, what the search needs, in one 16-byte record (one cache line fetch, not four).
struct TokenInfo {
  TokenId left, right;  // a merge token's two parts; a byte is both its own parts
  TokenId next_prefix;  // longest usable token that is a proper prefix; kNone for bytes
  uint32_t length;      // bytes
};

// One slot of the double-array trie. The children of the node in slot x sit in slots base + byte,
// each with check == x; a slot whose check differs is not a child of x. Slot 0 is the root, whose
// children (every byte is a token) are slots 1 + byte.
struct Slot {
  uint32_t base = 0;        // children at base + byte; 0 when none (slots 0..255 never name x)
  uint32_t check = kNone;   // the parent's slot; kNone: free
  TokenId token = kNone;    // the usable token whose bytes lead here; kNone: none
};

}  // namespace

struct BacktrackTables {
  std::span<const TokenInfo> info;  // info_own, or the prepared cache's mapped file (LoadBacktrackTables)
  std::vector<TokenInfo> info_own;
  // Trie of the usable tokens' bytes, as a double array, padded so that base + byte never runs off
  // the end (no bounds check in the walk). Built breadth first, so the top levels, which every
  // walk touches, share a few cache lines.
  std::span<const Slot> trie;  // trie_own, or the prepared cache's mapped file (LoadBacktrackTables)
  std::vector<Slot> trie_own;
  // The usable tokens of 2..16 bytes by their packed bytes (open addressing, at most half full):
  // when the rest of a piece is one token, as it mostly is, one probe finds it instead of a trie
  // walk of one memory access per byte. Two tables, picked by the piece's length: tokens of up to
  // 8 bytes in 16-byte slots, longer ones in 24-byte slots.
  struct Whole8 {  // the first 8 bytes are the whole key
    uint64_t lo = 0;
    uint32_t length = 0;  // 0: empty
    TokenId token = kNone;
  };
  struct Whole16 {  // 24 bytes: the token sits in the key's padding
    uint64_t lo = 0, hi = 0;
    uint32_t length = 0;  // 0: empty
    TokenId token = kNone;
  };
  std::span<const Whole8> whole8;  // whole8_own or the mapped file, as trie
  std::span<const Whole16> whole16;
  std::vector<Whole8> whole8_own;
  std::vector<Whole16> whole16_own;
  std::shared_ptr<const void> mapping;  // keeps the mapped file, when the spans point into it
  int whole8_shift = 64, whole16_shift = 64;

  template <typename Slot, typename Fill>
  static void BuildWhole(const std::vector<TokenId>& tokens, const Vocabulary& v, std::vector<Slot>& table,
                         int& shift, Fill fill) {
    size_t slots = 2;
    for (shift = 63; slots < 2 * tokens.size(); slots *= 2) --shift;
    table.assign(slots, Slot{});
    for (TokenId t : tokens) {
      const ShortKey key = PackShort(v.TokenBytes(t));
      size_t i = HashShort(key) >> shift;
      while (table[i].length != 0) i = (i + 1) & (slots - 1);
      table[i] = fill(key, t);
    }
  }

  // A one-hash Bloom filter of the merge pairs, at least 16 bits per merge (so about 6% of the
  // pairs that are not merges pass): the pair test asks about many pairs, nearly none of them
  // merges, and a clear bit answers "not a merge" from this small array (32 KB at vocab 10000)
  // instead of a lookup in the much larger rank map.
  std::span<const uint64_t> pair_filter;  // pair_filter_own or the mapped file
  std::vector<uint64_t> pair_filter_own;
  int pair_filter_shift = 64;
  uint64_t PairFilterBit(TokenId a, TokenId b) const {
    return (((uint64_t{a} << 32) | b) * 0x9E3779B97F4A7C15ull) >> pair_filter_shift;
  }
  bool MayBeMerge(TokenId a, TokenId b) const {
    const uint64_t bit = PairFilterBit(a, b);
    return (pair_filter[bit / 64] >> (bit % 64)) & 1;
  }

  // A blocked Bloom filter of the whole-token tables' keys: one 64-bit word per hash, two bits in
  // it, 8 bits per token (4% of the strings that are not tokens passed it on Chinese; 128 KB for
  // cl100k_base's tables of 3.5 MB). A probe of the tables that misses is a cache miss: in text of
  // multi-byte characters, where the rest of a piece is seldom one token, the filter answers most
  // of them from a table that stays in cache. Only LongestMatch asks it, whose trie walk finds the
  // same token when a probe is turned away: wrong bits cost speed, never ids.
  std::span<const uint64_t> whole_filter;  // whole_filter_own or the mapped file
  std::vector<uint64_t> whole_filter_own;
  int whole_filter_shift = 64;
  static uint64_t WholeFilterBits(uint64_t hash, int shift) {
    return (uint64_t{1} << ((hash >> (shift - 6)) & 63)) | (uint64_t{1} << ((hash >> (shift - 12)) & 63));
  }
  bool MayBeWhole(uint64_t hash) const {
    const uint64_t bits = WholeFilterBits(hash, whole_filter_shift);
    return (whole_filter[hash >> whole_filter_shift] & bits) == bits;
  }
  template <typename Slot>
  void AddToFilter(const std::vector<Slot>& table) {
    for (const Slot& w : table) {
      if (w.length == 0) continue;
      ShortKey key;
      key.lo = w.lo;
      if constexpr (std::is_same_v<Slot, Whole16>) key.hi = w.hi;
      key.length = w.length;
      const uint64_t hash = HashShort(key);
      whole_filter_own[hash >> whole_filter_shift] |= WholeFilterBits(hash, whole_filter_shift);
    }
  }
  void BuildWholeFilter(size_t tokens) {
    size_t words = 2;  // at least two: the bits' shifts (shift - 12) stay >= 0
    for (whole_filter_shift = 63; 64 * words < 8 * tokens; words *= 2) --whole_filter_shift;
    whole_filter_own.assign(words, 0);
    AddToFilter(whole8_own);
    AddToFilter(whole16_own);
    whole_filter = whole_filter_own;
  }

  TokenId FindWhole(std::string_view s) const {
    const ShortKey key = PackShort(s);
    return FindWhole(key, HashShort(key));
  }
  // The same, for a string that starts with a byte of a multi-byte character: through the filter.
  TokenId FindWholeFiltered(std::string_view s) const {
    const ShortKey key = PackShort(s);
    const uint64_t hash = HashShort(key);
    return MayBeWhole(hash) ? FindWhole(key, hash) : kNone;
  }
  TokenId FindWhole(const ShortKey& key, uint64_t hash) const {
    if (key.length <= 8) {
      for (size_t i = hash >> whole8_shift;; i = (i + 1) & (whole8.size() - 1)) {
        const Whole8& w = whole8[i];
        if (w.length == 0) return kNone;
        if (w.lo == key.lo && w.length == key.length) return w.token;
      }
    }
    for (size_t i = hash >> whole16_shift;; i = (i + 1) & (whole16.size() - 1)) {
      const Whole16& w = whole16[i];
      if (w.length == 0) return kNone;
      if (w.lo == key.lo && w.hi == key.hi && w.length == key.length) return w.token;
    }
  }

  BacktrackTables() = default;  // LoadBacktrackTables fills it in

  // What follows from the merge list alone: the pair filter and each token's parts and length.
  void BuildFromMerges(const Vocabulary& v) {
    const size_t n = v.size();
    info_own.resize(n);
    size_t bits = 64;
    for (pair_filter_shift = 58; bits < 16 * v.merges().size(); bits *= 2) --pair_filter_shift;
    pair_filter_own.assign(bits / 64, 0);
    for (const Pair& m : v.merges()) {
      const uint64_t bit = PairFilterBit(m.left, m.right);
      pair_filter_own[bit / 64] |= uint64_t{1} << (bit % 64);
    }
    for (TokenId t = 0; t < n; ++t) info_own[t] = ExpectedInfo(v, t);
    info = info_own;
    pair_filter = pair_filter_own;
  }
  // A token's record as the merge list makes it, next_prefix aside.
  static TokenInfo ExpectedInfo(const Vocabulary& v, TokenId t) {
    const bool byte = t < kByteAlphabet;
    return TokenInfo{byte ? t : v.merges()[t - kByteAlphabet].left, byte ? t : v.merges()[t - kByteAlphabet].right,
                     kNone, static_cast<uint32_t>(std::min<uint64_t>(v.TokenLength(t), UINT32_MAX))};
  }

  explicit BacktrackTables(const Vocabulary& v) {
    const size_t n = v.size();
    BuildFromMerges(v);

    // A token is usable when its bytes encode to it alone. Its parts are then usable too (they
    // encode alone inside it), so one pass in id order can test each merge token with a reference
    // encoder over its bytes, skipping those whose parts are already unusable.
    std::vector<char> usable(n, 0);
    std::fill(usable.begin(), usable.begin() + std::min<size_t>(n, kByteAlphabet), 1);
    auto reference = MakeHybridEncoder(v);
    std::vector<TokenId> ids, tokens8, tokens16;
    for (TokenId t = kByteAlphabet; t < n; ++t) {
      // A token whose bytes the vocabulary does not hold (a hostile model's) stays out of the
      // tables, which so stay as small as the held bytes; Search merges the pieces it could be in.
      if (!v.HasBytes(t) || !usable[info[t].left] || !usable[info[t].right]) continue;
      ids.clear();
      reference->EncodePiece(v.TokenBytes(t), ids);
      if (ids.size() != 1 || ids[0] != t) continue;
      usable[t] = 1;
      const size_t length = v.TokenBytes(t).size();
      if (length <= 8) tokens8.push_back(t);
      else if (length <= kShortKeyMaxBytes) tokens16.push_back(t);
    }
    BuildTrie(v, usable);
    trie = trie_own;
    BuildWhole(tokens8, v, whole8_own, whole8_shift, [](const ShortKey& k, TokenId t) { return Whole8{k.lo, k.length, t}; });
    BuildWhole(tokens16, v, whole16_own, whole16_shift,
               [](const ShortKey& k, TokenId t) { return Whole16{k.lo, k.hi, k.length, t}; });
    whole8 = whole8_own;
    whole16 = whole16_own;
    BuildWholeFilter(tokens8.size() + tokens16.size());
    // A prefix may be a later token than the one it starts (ids follow merge order, not length), so
    // next_prefix waits for the whole trie.
    for (TokenId t = kByteAlphabet; t < n; ++t) {
      if (!usable[t]) continue;
      const std::string_view bytes = v.TokenBytes(t);
      uint32_t node = 1 + static_cast<uint8_t>(bytes[0]);
      info_own[t].next_prefix = trie[node].token;
      for (size_t i = 1; i + 1 < bytes.size(); ++i) {
        node = trie[node].base + static_cast<uint8_t>(bytes[i]);
        if (trie[node].token != kNone) info_own[t].next_prefix = trie[node].token;
      }
    }
  }

  // The double array of the usable tokens' bytes, breadth first: each node's children are placed
  // at the first base where all of their slots are free.
  void BuildTrie(const Vocabulary& v, const std::vector<char>& usable) {
    std::vector<std::string_view> keys;  // sorted, so each node's strings form one range
    std::vector<TokenId> ids;
    for (TokenId t = 0; t < usable.size(); ++t)
      if (usable[t]) ids.push_back(t);
    std::sort(ids.begin(), ids.end(), [&](TokenId a, TokenId b) { return v.TokenBytes(a) < v.TokenBytes(b); });
    for (TokenId t : ids) keys.push_back(v.TokenBytes(t));
    trie_own.assign(1 + kByteAlphabet + 256, Slot{});
    std::vector<char> used(trie_own.size(), 0);
    used[0] = 1;
    trie_own[0].base = 1;
    struct Node {
      uint32_t slot;
      size_t lo, hi, depth;  // keys[lo, hi) start with this node's depth bytes
    };
    std::vector<Node> queue;
    // The root's children: every byte value is a usable token, the first key of its range.
    for (size_t lo = 0; lo < keys.size();) {
      const uint8_t c = static_cast<uint8_t>(keys[lo][0]);
      size_t hi = lo;
      while (hi < keys.size() && static_cast<uint8_t>(keys[hi][0]) == c) ++hi;
      trie_own[1 + c] = Slot{0, 0, ids[lo]};
      used[1 + c] = 1;
      queue.push_back(Node{1u + c, lo + 1, hi, 1});
      lo = hi;
    }
    size_t first_free = 1 + kByteAlphabet;
    std::vector<uint8_t> labels;
    std::vector<size_t> starts;
    for (size_t q = 0; q < queue.size(); ++q) {
      const Node node = queue[q];
      if (node.lo == node.hi) continue;  // a leaf: base stays 0
      labels.clear();
      starts.clear();
      for (size_t i = node.lo; i < node.hi; ++i) {  // keys here are all longer than depth
        const uint8_t c = static_cast<uint8_t>(keys[i][node.depth]);
        if (labels.empty() || labels.back() != c) labels.push_back(c), starts.push_back(i);
      }
      starts.push_back(node.hi);
      // The first base >= 1 whose slots base + label are all free, trying only bases that put the
      // first label on a free slot.
      uint32_t base = 0;
      for (size_t p = std::max<size_t>(first_free, size_t{labels[0]} + 1);; ++p) {
        if (p + 256 >= used.size()) used.resize(2 * used.size(), 0);
        if (used[p]) continue;
        base = static_cast<uint32_t>(p - labels[0]);
        bool fits = true;
        for (size_t j = 1; j < labels.size() && fits; ++j) fits = !used[base + labels[j]];
        if (fits) break;
      }
      if (size_t{base} + 256 + 1 > trie_own.size()) trie_own.resize(std::max(2 * trie_own.size(), size_t{base} + 257));
      trie_own[node.slot].base = base;
      for (size_t j = 0; j < labels.size(); ++j) {
        const uint32_t child = base + labels[j];
        size_t lo = starts[j];
        const bool terminal = keys[lo].size() == node.depth + 1;
        trie_own[child] = Slot{0, node.slot, terminal ? ids[lo] : kNone};
        used[child] = 1;
        queue.push_back(Node{child, lo + terminal, starts[j + 1], node.depth + 1});
      }
      while (first_free < used.size() && used[first_free]) ++first_free;
    }
    size_t end = trie_own.size();
    while (end > 0 && trie_own[end - 1].check == kNone) --end;
    trie_own.resize(end + 256);  // base + byte of any node stays inside
    trie_own.shrink_to_fit();
  }
};

namespace {

// The tables' bytes (flat_arrays.h): the token records, the pair filter, the trie and the
// whole-token tables, as arrays of their plain records.
using flat::GetArray;
using flat::PutArray;

// An open-addressing table that LoadBacktrackTables may use: a power of two of slots that `shift`
// addresses (hash >> shift is a slot), with an empty slot so that a probe for a missing key ends,
// and only tokens of the vocabulary in it.
template <typename Entry>
bool WholeTableFits(std::span<const Entry> table, int shift, const Vocabulary& v) {
  if (shift < 1 || shift > 63 || table.size() != (size_t{1} << (64 - shift))) return false;
  bool empty = false;
  for (const Entry& e : table) {
    if (e.length == 0) empty = true;
    else if (e.token >= v.size()) return false;
  }
  return empty;
}

}  // namespace

std::string SaveBacktrackTables(const Vocabulary& v) {
  const BacktrackTables& t = v.Derived<BacktrackTables>();
  std::string out;
  const int32_t shifts[4] = {t.whole8_shift, t.whole16_shift, t.pair_filter_shift, t.whole_filter_shift};
  out.append(reinterpret_cast<const char*>(shifts), sizeof shifts);
  PutArray(out, t.info);
  PutArray(out, t.pair_filter);
  PutArray(out, t.trie);
  PutArray(out, t.whole8);
  PutArray(out, t.whole16);
  PutArray(out, t.whole_filter);
  return out;
}

bool LoadBacktrackTables(const Vocabulary& v, std::string_view in, std::shared_ptr<const void> keep) {
  auto t = std::make_shared<BacktrackTables>();
  int32_t shifts[4];
  if (in.size() < sizeof shifts) return false;
  std::memcpy(shifts, in.data(), sizeof shifts);
  in.remove_prefix(sizeof shifts);
  t->whole8_shift = shifts[0];
  t->whole16_shift = shifts[1];
  t->pair_filter_shift = shifts[2];
  t->whole_filter_shift = shifts[3];
  if (!GetArray(in, t->info, t->info_own) || !GetArray(in, t->pair_filter, t->pair_filter_own) ||
      !GetArray(in, t->trie, t->trie_own) || !GetArray(in, t->whole8, t->whole8_own) ||
      !GetArray(in, t->whole16, t->whole16_own) || !GetArray(in, t->whole_filter, t->whole_filter_own) ||
      !in.empty()) {
    return false;
  }
  t->mapping = std::move(keep);
  const size_t n = v.size();
  // Each token's record as the merges make it; next_prefix none or a shorter token, so that
  // following it always ends.
  if (t->info.size() != n) return false;
  for (TokenId id = 0; id < n; ++id) {
    const TokenInfo& got = t->info[id];
    const TokenInfo want = BacktrackTables::ExpectedInfo(v, id);
    if (got.left != want.left || got.right != want.right || got.length != want.length) return false;
    if (got.next_prefix != kNone && (got.next_prefix >= n || t->info[got.next_prefix].length >= got.length)) {
      return false;
    }
  }
  // The pair filter: as many bits as its shift addresses.
  const int fs = t->pair_filter_shift;
  if (fs < 7 || fs > 63 || t->pair_filter.size() != (size_t{1} << (64 - fs)) / 64) return false;
  // The trie: every walk stays inside (base + 255 < size) and finds only tokens of the vocabulary.
  const std::span<const Slot> trie = t->trie;
  if (trie.size() < 1 + 2 * kByteAlphabet || trie[0].base != 1) return false;
  for (const Slot& slot : trie) {
    if (size_t{slot.base} + kByteAlphabet > trie.size() || (slot.token != kNone && slot.token >= n)) return false;
  }
  if (!WholeTableFits(t->whole8, t->whole8_shift, v) || !WholeTableFits(t->whole16, t->whole16_shift, v)) return false;
  // The whole-token filter: as many words as its shift addresses, at least two. (Its bits are not
  // checked: wrong ones cost speed, not ids.)
  const int ws = t->whole_filter_shift;
  if (ws < 12 || ws > 63 || t->whole_filter.size() != (size_t{1} << (64 - ws))) return false;
  return v.InstallDerived<BacktrackTables>(std::move(t));
}

// The whole-token tables' answer for s (1 < s.size() <= kShortKeyMaxBytes). A string that starts
// with a byte of a multi-byte character asks the filter first: in text of other scripts than
// Latin the rest of a piece is seldom one token, and where a character is two tokens the rest starts
// inside a character (Chinese under cl100k_base: 1.2 million probes from such bytes, 6,000 of them
// tokens, on 9 MB). ASCII goes straight to the tables, where the probe mostly finds a token, and so
// does a whole piece (EncodePiece): one probe per piece, and on every text most pieces are a token.
[[gnu::always_inline]] inline TokenId BacktrackEncoder::FindWholePiece(std::string_view s) const {
  return static_cast<uint8_t>(s[0]) < 0x80 ? t_.FindWhole(s) : t_.FindWholeFiltered(s);
}

BacktrackEncoder::BacktrackEncoder(const Vocabulary& v)
    : Encoder(v), t_(v.Derived<BacktrackTables>()) {}

void BacktrackEncoder::EncodePiece(std::string_view piece, std::vector<TokenId>& out) {
  // Most pieces of text are one token: found by one probe of the whole-token table, no search and
  // no call (Search is out of line, so this path saves and restores no registers).
  const size_t n = piece.size();
  if (n == 1) {
    ++whole_;
    out.push_back(static_cast<uint8_t>(piece[0]));
  } else if (TokenId t; n <= kShortKeyMaxBytes && (t = t_.FindWhole(piece)) != kNone) {
    ++whole_;
    out.push_back(t);
  } else {
    Search(piece, out);
  }
}

void BacktrackEncoder::EncodeChunk(std::string_view text, const PreTokenizer& pre, std::vector<TokenId>& out) {
  pre.ForEachPiece(text, [&](std::string_view piece) { BacktrackEncoder::EncodePiece(piece, out); });
}

std::vector<std::pair<std::string, double>> BacktrackEncoder::Counters() const {
  return {{"whole_token_pieces", static_cast<double>(whole_)},
          {"pair_memo_slots", static_cast<double>(pair_memo_.size())}};
}

// The pair test through the memo (backtrack.h).
inline bool BacktrackEncoder::PairValid(TokenId a, TokenId b) {
  const uint64_t pair = (uint64_t{a} << 32) | b;
  uint64_t& slot = pair_memo_[(pair * 0x9E3779B97F4A7C15ull) >> pair_memo_shift_];
  if (slot == pair) return true;
  if (slot == ~pair) return false;
  const bool valid = WalkPairValid(a, b);
  slot = valid ? pair : ~pair;
  if (++walks_ == walks_to_grow_) [[unlikely]] GrowPairMemo();
  return valid;
}

[[gnu::noinline]] void BacktrackEncoder::GrowPairMemo() {
  walks_ = 0;
  if (pair_memo_shift_ <= 64 - kPairMemoMaxBits) {
    walks_to_grow_ = 0;  // grown in full: never again (the count wraps only after 2^64 walks)
    return;
  }
  pair_memo_shift_ = std::max(pair_memo_shift_ - 2, 64 - kPairMemoMaxBits);
  pair_memo_.assign(size_t{1} << (64 - pair_memo_shift_), kEmptyPairSlot);
  walks_to_grow_ = 8 * pair_memo_.size();
}

void BacktrackEncoder::Search(std::string_view piece, std::vector<TokenId>& out) {
  const size_t n = piece.size();
  if (n > vocab().held_max_length() && !vocab().all_held()) {
    // Its encoding may hold a token the tables leave out: merge by rank instead (O(n log n)).
    if (!long_pieces_) long_pieces_ = MakeHeapEncoder(vocab());
    long_pieces_->EncodePiece(piece, out);
    return;
  }
  Match candidate = LongestMatch(piece, 0, /*probe_whole=*/false);  // EncodePiece probed it
  const size_t first = out.size();  // the piece's tokens so far: out[first..]
  size_t pos = 0;
  // Greedy first: while each longest match pairs validly with the token before it, the search
  // below would take it too (no position is dead yet), so most pieces need no dead set at all.
  for (;;) {
    if (pos + candidate.length > n) Fail("backtrack: no valid encoding found (vocabulary tables are inconsistent)");
    if (out.size() != first && !PairValid(out.back(), candidate.token)) break;
    out.push_back(candidate.token);
    pos += candidate.length;
    if (pos == n) return;
    candidate = LongestMatch(piece, pos);
  }
  // A pair failed: the search goes on from here, shortening and backing off.
  dead_.assign(n / 64 + 1, 0);  // bit i: no encoding of the piece has a token ending at i
  while (pos < n) {
    const TokenId last = out.size() == first ? kNone : out.back();
    for (Match m = candidate;;) {
      const size_t end = pos + m.length;
      // Never true with derived tables; guards tables read back from a file (LoadBacktrackTables).
      if (end > n) Fail("backtrack: no valid encoding found (vocabulary tables are inconsistent)");
      if (!Dead(end) && (last == kNone || PairValid(last, m.token))) {
        out.push_back(m.token);
        pos = end;
        if (pos < n) candidate = LongestMatch(piece, pos);
        break;
      }
      if (const TokenId shorter = t_.info[m.token].next_prefix; shorter != kNone) {
        m = Match{shorter, t_.info[shorter].length};
        continue;
      }
      // Nothing fits after `last`: pos is dead; retry last's position with shorter tokens. The
      // piece's own encoding always survives, so there is a token to back off (checked anyway).
      if (last == kNone)
        Fail("backtrack: no valid encoding found (vocabulary tables are inconsistent)");
      dead_[pos / 64] |= uint64_t{1} << (pos % 64);
      out.pop_back();
      candidate = Match{last, t_.info[last].length};
      if (candidate.length > pos) Fail("backtrack: no valid encoding found (vocabulary tables are inconsistent)");
      pos -= candidate.length;
      break;
    }
  }
}

// The longest usable token that starts piece[pos..].
BacktrackEncoder::Match BacktrackEncoder::LongestMatch(std::string_view piece, size_t pos, bool probe_whole) const {
  const size_t rest = piece.size() - pos;
  Match best{static_cast<uint8_t>(piece[pos]), 1};
  if (rest == 1) return best;
  // Not where the rest starts with a character of 3 bytes (Han, kana, Hangul): there the rest is
  // seldom one token (Chinese under cl100k_base: 13% of such probes), and the trie walk below, which
  // finds that token too, costs less than the filter's and tables' cache misses on the other 87%
  // (zh_sanguo 1.03-1.14x faster without the probe).
  if (probe_whole && rest <= kShortKeyMaxBytes && (static_cast<uint8_t>(piece[pos]) & 0xF0) != 0xE0) {
    if (const TokenId t = FindWholePiece(piece.substr(pos)); t != kNone) {
      return Match{t, static_cast<uint32_t>(rest)};
    }
  }
  const Slot* trie = t_.trie.data();
  uint32_t node = 1 + static_cast<uint8_t>(piece[pos]);
  for (size_t i = pos + 1; i < piece.size(); ++i) {
    const uint32_t child = trie[node].base + static_cast<uint8_t>(piece[i]);
    if (trie[child].check != node) break;
    node = child;
    if (trie[node].token != kNone) best = Match{trie[node].token, static_cast<uint32_t>(i + 1 - pos)};
  }
  return best;
}

// Whether encoding bytes(a) + bytes(b) gives a, b. Undo the later-formed token's last merge first
// (ids are merge order), keeping `limit`: a merge across the boundary with an id below it would
// have fired before the undone token formed. When b is undone, limit is b + 1: a crossing merge
// with b's own id is the same pair further left, and the leftmost occurrence wins.
bool BacktrackEncoder::WalkPairValid(TokenId a, TokenId b) const {
  const Vocabulary& v = vocab();
  uint32_t limit = UINT32_MAX;
  for (;;) {
    if (t_.MayBeMerge(a, b)) {
      const uint32_t rank = v.Rank(a, b);
      if (rank != Vocabulary::kNoRank && MergedId(rank) < limit) return false;
    }
    // Both bytes: nothing left to undo. Otherwise undo the later-formed token (both its parts sit
    // in one record), with masks rather than a branch: which side that is changes from step to
    // step with no pattern a predictor could learn.
    static_assert((kByteAlphabet & (kByteAlphabet - 1)) == 0, "a | b below it: both are bytes");
    if ((a | b) < kByteAlphabet) return true;
    const uint32_t undo_a = 0u - static_cast<uint32_t>(a > b);  // all ones: undo a
    const TokenInfo& undone = t_.info[(a & undo_a) | (b & ~undo_a)];
    const TokenId part = (undone.right & undo_a) | (undone.left & ~undo_a);
    limit = (a & undo_a) | ((b + 1) & ~undo_a);
    a ^= (a ^ part) & undo_a;
    b ^= (b ^ part) & ~undo_a;
  }
}

std::unique_ptr<Encoder> MakeBacktrackEncoder(const Vocabulary& v) {
  return std::make_unique<BacktrackEncoder>(v);
}

}  // namespace bpe

// Encoder `backtrack`: linear-time exact BPE without simulating the merges (the approach of GitHub's
// `bpe` crate and the "valid encoding" literature; this is our own code).
//
// Two facts make it work. (1) Every token in a BPE encoding is its own encoding: the merges inside a
// token's span never see its neighbours, so they run as when the token's bytes are encoded alone.
// Tokens whose bytes encode to something else (a later duplicate of an earlier token's bytes, say)
// never appear, and are left out here. (2) A sequence of such tokens is THE encoding of its bytes
// exactly when every adjacent pair is: encoding bytes(a) + bytes(b) gives a, b. That pair test needs
// no text: walk down a's right edge and b's left edge of their merge trees, undoing the later-formed
// of the two first, and fail if some pair across the boundary has a merge that would fire before
// the tokens on either side were formed (PairValid).
//
// So: take the longest token that is a prefix of the rest of the piece (a trie walk), shorten it
// (next_prefix) until it ends at a position not yet known dead and pairs validly with the token before
// it, and when even one byte fails, mark the current position dead and back off one token. Each
// position is marked dead at most once; in practice the first candidate almost always fits.
//
// Cost: O(n x longest token) trie steps in the worst case, O(n) on text; no per-token allocation
// (scratch vectors are reused). The tables (trie, splits, next_prefix) are derived once per
// vocabulary and shared by all instances (Vocabulary::Derived).
#include <boost/unordered/unordered_flat_map.hpp>
#include <memory>

#include "algorithms/core/encoder.h"
#include "algorithms/core/error.h"

namespace bpe {

std::unique_ptr<Encoder> MakeHybridEncoder(const Vocabulary&);

namespace {

constexpr TokenId kNone = UINT32_MAX;

struct BacktrackTables {
  std::vector<TokenId> left, right;  // a merge token's two parts; a byte is both its own parts
  std::vector<uint32_t> length;      // bytes per token
  std::vector<TokenId> next_prefix;  // longest usable token that is a proper prefix; kNone for bytes
  // Trie of the usable tokens' bytes. Node 0 is the root and node 1 + b the child for byte b (every
  // byte is a token); deeper edges are hashed as (node << 8 | byte) -> child.
  std::vector<TokenId> node_token;  // token ending at each node, or kNone
  boost::unordered_flat_map<uint64_t, uint32_t> edges;

  explicit BacktrackTables(const Vocabulary& v) {
    const size_t n = v.size();
    left.resize(n);
    right.resize(n);
    length.resize(n);
    next_prefix.assign(n, kNone);
    for (TokenId t = 0; t < n; ++t) {
      length[t] = static_cast<uint32_t>(v.TokenBytes(t).size());
      if (t < kByteAlphabet) {
        left[t] = right[t] = t;
      } else {
        left[t] = v.merges()[t - kByteAlphabet].left;
        right[t] = v.merges()[t - kByteAlphabet].right;
      }
    }
    node_token.assign(1 + kByteAlphabet, kNone);
    for (TokenId b = 0; b < kByteAlphabet; ++b) node_token[1 + b] = b;

    // A token is usable when its bytes encode to it alone. Its parts are then usable too (they
    // encode alone inside it), so one pass in id order can test each merge token with a reference
    // encoder over its bytes, skipping those whose parts are already unusable.
    std::vector<char> usable(n, 0);
    std::fill(usable.begin(), usable.begin() + std::min<size_t>(n, kByteAlphabet), 1);
    auto reference = MakeHybridEncoder(v);
    std::vector<TokenId> ids;
    for (TokenId t = kByteAlphabet; t < n; ++t) {
      if (!usable[left[t]] || !usable[right[t]]) continue;
      ids.clear();
      reference->EncodePiece(v.TokenBytes(t), ids);
      if (ids.size() != 1 || ids[0] != t) continue;
      usable[t] = 1;
      const std::string_view bytes = v.TokenBytes(t);
      uint32_t node = 1 + static_cast<uint8_t>(bytes[0]);
      for (size_t i = 1; i < bytes.size(); ++i) {
        const uint64_t key = (uint64_t{node} << 8) | static_cast<uint8_t>(bytes[i]);
        auto [it, added] = edges.try_emplace(key, static_cast<uint32_t>(node_token.size()));
        if (added) node_token.push_back(kNone);
        node = it->second;
      }
      node_token[node] = t;
    }
    // A prefix may be a later token than the one it starts (ids follow merge order, not length), so
    // next_prefix waits for the whole trie.
    for (TokenId t = kByteAlphabet; t < n; ++t) {
      if (!usable[t]) continue;
      const std::string_view bytes = v.TokenBytes(t);
      uint32_t node = 1 + static_cast<uint8_t>(bytes[0]);
      next_prefix[t] = static_cast<uint8_t>(bytes[0]);
      for (size_t i = 1; i + 1 < bytes.size(); ++i) {
        node = edges.find((uint64_t{node} << 8) | static_cast<uint8_t>(bytes[i]))->second;
        if (node_token[node] != kNone) next_prefix[t] = node_token[node];
      }
    }
  }
};

class BacktrackEncoder final : public Encoder {
 public:
  explicit BacktrackEncoder(const Vocabulary& v) : Encoder(v), t_(v.Derived<BacktrackTables>()) {}

  void EncodePiece(std::string_view piece, std::vector<TokenId>& out) override {
    const size_t n = piece.size();
    dead_.assign(n / 64 + 1, 0);  // bit i: no encoding of the piece has a token ending at i
    tokens_.clear();
    size_t pos = 0;
    TokenId candidate = LongestMatch(piece, 0);
    while (pos < n) {
      const TokenId last = tokens_.empty() ? kNone : tokens_.back();
      for (TokenId t = candidate;;) {
        const size_t end = pos + t_.length[t];
        if (!Dead(end) && (last == kNone || PairValid(last, t))) {
          tokens_.push_back(t);
          pos = end;
          if (pos < n) candidate = LongestMatch(piece, pos);
          break;
        }
        if (t_.next_prefix[t] != kNone) {
          t = t_.next_prefix[t];
          continue;
        }
        // Nothing fits after `last`: pos is dead; retry last's position with shorter tokens. The
        // piece's own encoding always survives, so there is a token to back off (checked anyway).
        if (last == kNone) Fail("backtrack: no valid encoding found (vocabulary tables are inconsistent)");
        dead_[pos / 64] |= uint64_t{1} << (pos % 64);
        tokens_.pop_back();
        pos -= t_.length[last];
        candidate = last;
        break;
      }
    }
    out.insert(out.end(), tokens_.begin(), tokens_.end());
  }

 private:
  bool Dead(size_t i) const { return (dead_[i / 64] >> (i % 64)) & 1; }

  // The longest usable token that starts piece[pos..].
  TokenId LongestMatch(std::string_view piece, size_t pos) const {
    uint32_t node = 1 + static_cast<uint8_t>(piece[pos]);
    TokenId best = static_cast<uint8_t>(piece[pos]);
    for (size_t i = pos + 1; i < piece.size(); ++i) {
      const auto it = t_.edges.find((uint64_t{node} << 8) | static_cast<uint8_t>(piece[i]));
      if (it == t_.edges.end()) break;
      node = it->second;
      if (t_.node_token[node] != kNone) best = t_.node_token[node];
    }
    return best;
  }

  // Whether encoding bytes(a) + bytes(b) gives a, b. Undo the later-formed token's last merge first
  // (ids are merge order), keeping `limit`: a merge across the boundary with an id below it would
  // have fired before the undone token formed. When b is undone, limit is b + 1: a crossing merge
  // with b's own id is the same pair further left, and the leftmost occurrence wins.
  bool PairValid(TokenId a, TokenId b) const {
    const Vocabulary& v = vocab();
    uint32_t limit = UINT32_MAX;
    for (;;) {
      const uint32_t rank = v.Rank(a, b);
      if (rank != Vocabulary::kNoRank && MergedId(rank) < limit) return false;
      if (a > b) {
        limit = a;
        a = t_.right[a];
        if (a == limit) {  // a is a byte: only b can be undone further
          limit = b + 1;
          b = t_.left[b];
          if (b + 1 == limit) return true;
        }
      } else {
        limit = b + 1;
        b = t_.left[b];
        if (b + 1 == limit) {  // b is a byte
          limit = a;
          a = t_.right[a];
          if (a == limit) return true;
        }
      }
    }
  }

  const BacktrackTables& t_;
  std::vector<TokenId> tokens_;
  std::vector<uint64_t> dead_;
};

}  // namespace

std::unique_ptr<Encoder> MakeBacktrackEncoder(const Vocabulary& v) {
  return std::make_unique<BacktrackEncoder>(v);
}

}  // namespace bpe

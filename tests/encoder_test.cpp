// Every registered encoder must produce exactly the reference (`naive`) ids, and decode must give the
// input back. Parameterized over the registry.
#include <gtest/gtest.h>

#include <stdexcept>

#include <cstring>
#include <map>
#include <random>
#include <set>

#include "algorithms/core/error.h"
#include "algorithms/encoders/short_key.h"
#include "algorithms/core/vocabulary.h"
#include "tests/test_util.h"

namespace bpe {
namespace {

using test::Count;
using test::EncodeWith;

class EncoderTest : public ::testing::TestWithParam<std::string> {
 protected:
  void ExpectSameAsReference(const Vocabulary& vocab, const std::string& pre, std::string_view text) {
    const auto expected = EncodeWith(std::string(kReferenceEncoder), vocab, pre, text);
    const auto actual = EncodeWith(GetParam(), vocab, pre, text);
    ASSERT_EQ(actual.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      ASSERT_EQ(actual[i], expected[i]) << "first difference at token " << i;
    }
    std::string decoded;
    vocab.Decode(actual, decoded);
    ASSERT_EQ(decoded, text);
  }
  std::vector<TokenId> Encode(const Vocabulary& vocab, std::string_view text,
                              const std::string& pre = "none") {
    return EncodeWith(GetParam(), vocab, pre, text);
  }
};

TEST_P(EncoderTest, KnownAnswerWorkedByHand) {
  // Merges: a+b -> 256 'ab', 256+c -> 257 'abc', c+c -> 258 'cc'.
  const Vocabulary v(MergeList{{'a', 'b'}, {256, 'c'}, {'c', 'c'}});
  EXPECT_EQ(Encode(v, "abc"), (std::vector<TokenId>{257}));
  // "abccc": ab (rank 0) first, then ab+c (rank 1) before c+c (rank 2): [abc, cc].
  EXPECT_EQ(Encode(v, "abccc"), (std::vector<TokenId>{257, 258}));
  // "cccab": c+c leftmost first: [cc, c, ab].
  EXPECT_EQ(Encode(v, "cccab"), (std::vector<TokenId>{258, 'c', 256}));
  EXPECT_EQ(Encode(v, "xyz"), (std::vector<TokenId>{'x', 'y', 'z'}));
}

TEST_P(EncoderTest, EqualRanksMergeLeftmostFirst) {
  const Vocabulary v(MergeList{{'a', 'a'}});
  EXPECT_EQ(Encode(v, "aaa"), (std::vector<TokenId>{256, 'a'}));
  EXPECT_EQ(Encode(v, "aaaaa"), (std::vector<TokenId>{256, 256, 'a'}));
}

TEST_P(EncoderTest, PairSemanticsNotConcatenation) {
  // Tokens a, b, c, ab, bc, abc with merges a+b, b+c, a+bc. tiktoken's concatenation semantics
  // would give [abc] for "abc"; merging listed pairs by rank gives [ab, c]: a+bc never forms since
  // a+b (rank 0) is applied first. Canonical BPE is the pair semantics.
  const Vocabulary v(MergeList{{'a', 'b'}, {'b', 'c'}, {'a', 257}});
  EXPECT_EQ(Encode(v, "abc"), (std::vector<TokenId>{256, 'c'}));
  EXPECT_EQ(Encode(v, "bc"), (std::vector<TokenId>{257}));
}

// More distinct pieces than a bounded cache holds (`cached` empties and refills itself): still exact.
TEST_P(EncoderTest, ManyDistinctPiecesStayExact) {
  std::mt19937_64 rng(11);
  std::string text;
  for (int w = 0; w < 100'000; ++w) {
    text += ' ';
    for (size_t n = 3 + rng() % 8; n > 0; --n) text += static_cast<char>('a' + rng() % 8);
  }
  const Vocabulary v(test::TrainModel(Count(text.substr(0, 50'000), "whitespace"), 600));
  ExpectSameAsReference(v, "whitespace", text);
}

// Merge lists no trainer would emit (tiktoken-derived vocabularies are like this): tokens whose
// bytes repeat an earlier token's, tokens no text encodes to, merges of rarely adjacent tokens. Over
// a 3-letter alphabet every short text hits them. `backtrack` must leave the unreachable tokens out
// and still find the one encoding.
TEST_P(EncoderTest, MatchesReferenceOnRandomMergeLists) {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 400; ++trial) {
    MergeList merges;
    std::set<uint64_t> seen;
    const size_t wanted = 1 + rng() % 12;
    for (size_t k = 0; k < 4 * wanted && merges.size() < wanted; ++k) {
      auto pick = [&] {
        const size_t x = rng() % (3 + merges.size());
        return x < 3 ? static_cast<TokenId>('a' + x) : MergedId(x - 3);
      };
      const Pair p{pick(), pick()};
      if (seen.insert(PairKey(p)).second) merges.push_back(p);
    }
    const Vocabulary v(merges);
    std::string text;
    for (int piece = 0; piece < 40; ++piece) {
      text += ' ';
      for (size_t n = 1 + rng() % 14; n > 0; --n) text += static_cast<char>('a' + rng() % 3);
    }
    ExpectSameAsReference(v, "whitespace", text);
    if (HasFatalFailure()) {
      ADD_FAILURE() << "trial " << trial << ", " << merges.size() << " merges";
      return;
    }
  }
}

// Pieces of 1..17 bytes that differ in one byte, NUL and 0xFF bytes included: a cache that packs
// short pieces into machine words must keep every one of them apart.
TEST_P(EncoderTest, MatchesReferenceOnShortPiecesThatDifferInOneByte) {
  const std::string alphabet("ab\0\xff", 4);
  std::string text;
  for (size_t length = 1; length <= 17; ++length) {
    for (size_t at = 0; at < length; ++at) {
      for (char c : alphabet) {
        std::string piece(length, 'a');
        piece[at] = c;
        text += piece;
        text += ' ';
      }
    }
  }
  const Vocabulary v(test::TrainModel(Count(text, "whitespace"), 400));
  ExpectSameAsReference(v, "whitespace", text);
  // One encoder instance over several calls, as the CLI and harness use it: the second and third
  // passes come from its cache, where it has one, and must still be exact; a text in between fills
  // the cache with other pieces.
  const auto expected = EncodeWith(std::string(kReferenceEncoder), v, "whitespace", text);
  const PreTokenizer& pre = FindPreTokenizer("whitespace").get();
  const auto encoder = FindEncoder(GetParam()).make(v);
  const std::string other = test::CorpusSlice("gutenberg5", 20'000);
  for (int pass = 0; pass < 3; ++pass) {
    std::vector<TokenId> ids;
    encoder->EncodeChunk(text, pre, ids);
    EXPECT_EQ(ids, expected) << "pass " << pass;
    std::vector<TokenId> ignored;
    encoder->EncodeChunk(other, pre, ignored);
  }
}

TEST(CachedEncoder, ReportsItsHitRateAndHitsOnNaturalText) {
  const std::string text = test::CorpusSlice("gutenberg5", 300'000);
  const Vocabulary v(test::TrainModel(Count(text.substr(0, 100'000), "gpt2"), 1000));
  auto encoder = FindEncoder("cached").make(v);
  std::vector<TokenId> ids;
  EncodeChunk(text, FindPreTokenizer("gpt2").get(), *encoder, ids);
  size_t pieces = 0;
  FindPreTokenizer("gpt2").get().ForEachPiece(text, [&](std::string_view) { ++pieces; });
  const auto counters = encoder->Counters();
  std::map<std::string, double> c(counters.begin(), counters.end());
  ASSERT_EQ(c.count("cache_hit_rate"), 1u);
  const double short_pieces = c["whole_token_pieces"] + c["cache_hits"] + c["cache_misses"];
  EXPECT_LE(short_pieces, pieces);
  EXPECT_GT(short_pieces, pieces * 0.95);  // nearly every piece is short
  EXPECT_GT(c["whole_token_pieces"], pieces * 0.3);  // common words are tokens, even at vocab 1000
  EXPECT_DOUBLE_EQ(c["cache_hit_rate"], c["cache_hits"] / (c["cache_hits"] + c["cache_misses"]));
  EXPECT_GT(c["cache_hit_rate"], 0.5);  // English repeats its words, multi-token ones too (0.69)
}

// Text whose pair tests keep meeting new pairs (random words of 400 CJK characters, a model of
// multi-byte tokens): the pair memo of one `backtrack` or `cached` instance grows past its first
// 1024 slots while it encodes, and the ids stay those of `hybrid`, which merges by rank.
TEST(BacktrackEncoder, PairMemoGrowsAndIdsStayExact) {
  std::mt19937_64 rng(5);
  std::string text;
  while (text.size() < 200'000) {
    text += ' ';
    for (size_t n = 2 + rng() % 6; n > 0; --n) {
      const uint32_t cp = 0x4E00 + rng() % 400;  // 3 bytes each
      text += static_cast<char>(0xE0 | (cp >> 12));
      text += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      text += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  const Vocabulary v(test::TrainModel(Count(text.substr(0, 40'000), "whitespace"), 2000));
  const PreTokenizer& pre = FindPreTokenizer("whitespace").get();
  std::vector<TokenId> expected;
  EncodeChunk(text, pre, *FindEncoder("hybrid").make(v), expected);
  for (const char* name : {"backtrack", "cached"}) {
    auto encoder = FindEncoder(name).make(v);
    std::vector<TokenId> ids;
    for (size_t at = 0; at < text.size();) {  // many calls on one instance, cut at spaces
      size_t end = text.find(' ', std::min(text.size(), at + 20'000));
      if (end == std::string::npos) end = text.size();
      EncodeChunk(std::string_view(text).substr(at, end - at), pre, *encoder, ids);
      at = end;
    }
    EXPECT_EQ(ids, expected) << name;
    const auto counters = encoder->Counters();
    const std::map<std::string, double> c(counters.begin(), counters.end());
    ASSERT_EQ(c.count("pair_memo_slots"), 1u) << name;
    EXPECT_GT(c.at("pair_memo_slots"), 1024) << name;
  }
}

TEST_P(EncoderTest, MatchesReferenceOnCorporaWithModelsOfSeveralSizes) {
  BPEBENCH_REQUIRE_CORPORA("udhr59", "lua");
  for (const std::string corpus : {"gutenberg5", "udhr59", "lua"}) {
    // Train on one slice, encode held-out text that follows it.
    const std::string all = test::CorpusSlice(corpus, 260'000);
    const std::string train = all.substr(0, 200'000), held_out = all.substr(200'000);
    for (const auto& pre : PreTokenizers()) {
      const std::string name(pre.name);
      const WordCounts counts = Count(train, name);
      for (uint32_t vocab_size : {300u, 1000u, 3000u}) {
        SCOPED_TRACE(corpus + " / " + name + " / " + std::to_string(vocab_size));
        const Vocabulary v(test::TrainModel(counts, vocab_size));
        ExpectSameAsReference(v, name, held_out.substr(0, (name == "none" ? 15'000 : 60'000) / test::kSanitizerDivisor));
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST_P(EncoderTest, MatchesReferenceOnRandomBytes) {
  BPEBENCH_REQUIRE_CORPORA("zh_sanguo");
  const Vocabulary v(test::TrainModel(Count(test::CorpusSlice("zh_sanguo", 100'000), "gpt2"), 800));
  std::mt19937_64 rng(42);
  for (int round = 0; round < 300; ++round) {
    const std::string bytes = test::RandomBytes(rng, rng() % 200);
    for (const auto& pre : PreTokenizers()) ExpectSameAsReference(v, std::string(pre.name), bytes);
    if (HasFatalFailure()) return;
  }
}

TEST_P(EncoderTest, MatchesReferenceOnConcatenatedRandomTokens) {
  // Text made of whole tokens in random order: many merges apply, in unusual contexts.
  const Vocabulary v(test::TrainModel(Count(test::CorpusSlice("gutenberg5", 100'000), "whitespace"), 1500));
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::string text;
    for (int t = 0, n = 1 + static_cast<int>(rng() % 30); t < n; ++t) {
      text += v.TokenBytes(static_cast<TokenId>(rng() % v.size()));
    }
    ExpectSameAsReference(v, "none", text);
    ExpectSameAsReference(v, "whitespace", text);
    if (HasFatalFailure()) return;
  }
}

TEST_P(EncoderTest, MatchesReferenceOnAdversarialRepeats) {
  // Models trained on runs, so that long chains of merges of one byte and of short patterns exist.
  const Vocabulary v(test::TrainModel(
      Count(std::string(3000, 'a') + "\n" + std::string(2000, ' ') + "\n" +
                [] { std::string s; for (int i = 0; i < 1500; ++i) s += "ab"; return s; }() + "\n" +
                [] { std::string s; for (int i = 0; i < 1000; ++i) s += "xyz"; return s; }(),
            "none"),
      400));
  for (size_t n : {1u, 2u, 3u, 7u, 64u, 1000u, 4097u}) {
    SCOPED_TRACE(n);
    ExpectSameAsReference(v, "none", std::string(n, 'a'));
    ExpectSameAsReference(v, "none", std::string(n, ' '));
    std::string ab, xyz;
    for (size_t i = 0; i < n; ++i) ab += "ab", xyz += "xyz";
    ExpectSameAsReference(v, "none", ab);
    ExpectSameAsReference(v, "none", xyz.substr(1));
    if (HasFatalFailure()) return;
  }
}

TEST_P(EncoderTest, EmptyModelGivesBytes) {
  const Vocabulary v(MergeList{});
  EXPECT_EQ(Encode(v, "hi\xff"), (std::vector<TokenId>{'h', 'i', 0xff}));
}

TEST_P(EncoderTest, ThreadCountDoesNotChangeIds) {
  BPEBENCH_REQUIRE_CORPORA("tinyshakespeare");
  const std::string text = test::CorpusSlice("tinyshakespeare", 200'000);
  const Vocabulary v(test::TrainModel(Count(text.substr(0, 100'000), "gpt2"), 1000));
  const auto& info = FindEncoder(GetParam());
  const auto one = EncodeText(text, FindPreTokenizer("gpt2").get(), info.make, v, 1);
  for (int threads : {2, 3, 8}) {
    EXPECT_EQ(EncodeText(text, FindPreTokenizer("gpt2").get(), info.make, v, threads), one) << threads;
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, EncoderTest, ::testing::ValuesIn([] {
                           std::vector<std::string> names;
                           for (const auto& e : Encoders()) names.emplace_back(e.name);
                           return names;
                         }()),
                         [](const auto& info) { return info.param; });

// PackShort's layout is the definition written out (bytes in order, zero-padded to 16), whichever
// path the build compiled (one AVX-512 masked load, or overlapping loads and shifts), for every
// length and byte values including 0x00 and 0xFF, read from the end of a buffer (nothing past it).
TEST(ShortKey, PacksTheBytesInOrderZeroPadded) {
  std::mt19937_64 rng(7);
  for (size_t n = 1; n <= kShortKeyMaxBytes; ++n) {
    for (int trial = 0; trial < 200; ++trial) {
      std::vector<char> buffer;
      for (size_t i = 0; i < n; ++i) buffer.push_back(static_cast<char>(trial < 2 ? (trial ? 0xFF : 0) : rng()));
      const ShortKey k = PackShort(std::string_view(buffer.data(), n));
      unsigned char want[16] = {};
      std::memcpy(want, buffer.data(), n);
      uint64_t lo, hi;
      std::memcpy(&lo, want, 8);
      std::memcpy(&hi, want + 8, 8);
      ASSERT_EQ(k.lo, lo) << n << " bytes, trial " << trial;
      ASSERT_EQ(k.hi, hi) << n << " bytes, trial " << trial;
      ASSERT_EQ(k.length, n);
    }
  }
}

TEST(Vocabulary, TokenBytesAndDecode) {
  const Vocabulary v(MergeList{{'a', 'b'}, {256, 256}});
  EXPECT_EQ(v.size(), 258u);
  EXPECT_EQ(v.TokenBytes(257), "abab");
  EXPECT_EQ(v.Rank('a', 'b'), 0u);
  EXPECT_EQ(v.Rank('b', 'a'), Vocabulary::kNoRank);
  std::string out;
  v.Decode(std::vector<TokenId>{257, 'c', 0}, out);
  EXPECT_EQ(out, std::string("ababc\0", 6));
  EXPECT_THROW(v.Decode(std::vector<TokenId>{258}, out), Error);
}

TEST(Vocabulary, RejectsInvalidMergeLists) {
  EXPECT_THROW(Vocabulary(MergeList{{'a', 256}}), Error);        // id not created yet
  EXPECT_THROW(Vocabulary(MergeList{{'a', 'b'}, {'a', 'b'}}), Error);  // pair twice
}

// Token lengths doubling at every merge (training on one long run of a letter makes such a model,
// a few hundred bytes long): the vocabulary holds the bytes of the tokens that fit its budget, and
// every encoder still gives the reference's ids, also on pieces longer than any held token.
TEST(Vocabulary, LongTokensCostTheirMergesNotTheirLength) {
  MergeList doubling = {{'a', 'a'}};
  for (TokenId k = 1; k < 60; ++k) doubling.push_back({255 + k, 255 + k});
  doubling.push_back({'b', 'b'});
  const Vocabulary v(doubling);
  EXPECT_EQ(v.TokenLength(256), 2u);
  EXPECT_EQ(v.TokenLength(256 + 59), uint64_t{1} << 60);
  EXPECT_FALSE(v.all_held());
  EXPECT_FALSE(v.HasBytes(256 + 59));
  EXPECT_TRUE(v.HasBytes(256 + 60));  // bb: short, whatever its id
  EXPECT_LE(v.held_max_length(), Vocabulary::kHeldBytesBase);
  EXPECT_GE(v.held_max_length(), 1u << 16);
  std::string bytes;
  v.AppendTokenBytes(256 + 20, bytes);  // 2^21 bytes, expanded from its merges
  EXPECT_EQ(bytes, std::string(size_t{1} << 21, 'a'));
  EXPECT_THROW(v.TokenBytes(256 + 20), std::logic_error);
  std::string decoded;
  EXPECT_THROW(v.Decode(std::vector<TokenId>{256 + 59}, decoded), Error);  // 2^60 bytes: refused
  // A piece longer than every held token, with a tail that no long token covers.
  ASSERT_LT(v.held_max_length(), (size_t{1} << 18));
  const std::string piece = std::string((size_t{1} << 18) + 5, 'a') + "bb";
  for (const auto& e : Encoders()) {
    SCOPED_TRACE(e.name);
    std::vector<TokenId> ids;
    // naive is O(merges x length) and rank O(length^2): the short piece only.
    if (e.name != kReferenceEncoder && e.name != "rank") {
      e.make(v)->EncodePiece(piece, ids);
      EXPECT_EQ(ids, (std::vector<TokenId>{256 + 17, 256 + 1, 'a', 256 + 60}));
      ids.clear();
    }
    e.make(v)->EncodePiece("hi", ids);
    EXPECT_EQ(ids, (std::vector<TokenId>{'h', 'i'}));
  }
}

}  // namespace
}  // namespace bpe

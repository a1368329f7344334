// Every registered trainer must produce exactly the reference (`naive`) merge list. The suite is
// parameterized over the registry: a new trainer is covered by adding its registry row.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>

#include "algorithms/core/error.h"
#include "algorithms/core/vocabulary.h"
#include "algorithms/trainers/occurrences.h"
#include "algorithms/trainers/pair_queue.h"
#include "tests/test_util.h"

namespace bpe {
namespace {

using test::Count;
using test::TrainReference;

TrainResult TrainWith(std::string_view trainer, const WordCounts& counts, uint32_t vocab_size,
                      uint64_t min_frequency = 1) {
  TrainOptions options;
  options.vocab_size = vocab_size;
  options.min_frequency = min_frequency;
  return FindTrainer(trainer).make()->Train(counts, options);
}

TEST(TieRule, HigherCountWinsThenSmallerPair) {
  EXPECT_TRUE(BetterCandidate(5, {300, 1}, 4, {1, 1}));
  EXPECT_FALSE(BetterCandidate(4, {1, 1}, 5, {300, 1}));
  // Equal counts: the smaller (left, right) wins; left decides before right.
  EXPECT_TRUE(BetterCandidate(7, {97, 98}, 7, {97, 99}));
  EXPECT_TRUE(BetterCandidate(7, {97, 300}, 7, {98, 1}));
  EXPECT_FALSE(BetterCandidate(7, {98, 1}, 7, {97, 300}));
  EXPECT_FALSE(BetterCandidate(7, {97, 98}, 7, {97, 98}));  // not better than itself
}

// The incremental trainers' candidate queue: a heap for large counts and buckets for small ones
// (below 4096). Against a brute-force search of the live counts, through merges that drop counts
// across that boundary, new pairs pushed near the best count, counts that grow (pushed again) and
// many ties (counts in steps of 8), every pop must be the best live pair by the tie rule with its
// live count, from the heap's range down through the buckets' to the end.
TEST(LazyPairQueue, PopsTheBestLivePairAcrossHeapAndBuckets) {
  std::mt19937_64 rng(11);
  std::map<uint64_t, uint64_t> live;  // pair key -> live count
  std::vector<LazyPairQueue::Candidate> initial;
  for (int k = 0; k < 3000; ++k) {
    const Pair p{static_cast<TokenId>(rng() % 300), static_cast<TokenId>(rng() % 300)};
    if (live.count(PairKey(p)) == 0) initial.push_back({live[PairKey(p)] = 8 + rng() % 1125 * 8, p});
  }
  LazyPairQueue queue(initial);
  auto some_pair = [&](TokenId below) {  // an existing one, mostly
    return live.lower_bound(PairKey({static_cast<TokenId>(rng() % below), static_cast<TokenId>(rng() % below)}));
  };
  TokenId next = 300;
  size_t crossed = 0, from_heap = 0, from_buckets = 0;
  while (true) {
    uint64_t best_count = 0, best_key = 0;
    for (const auto& [key, count] : live) {
      if (count > best_count) best_count = count, best_key = key;  // ascending keys: the first of a count wins
    }
    const auto got = queue.PopBest([&](Pair p) {
      const auto it = live.find(PairKey(p));
      return it == live.end() ? 0 : it->second;
    });
    ASSERT_EQ(got.count, best_count) << "pop " << from_heap + from_buckets;
    if (best_count == 0) break;
    ASSERT_EQ(PairKey(got.pair), best_key) << "pop " << from_heap + from_buckets;
    ++(best_count >= 4096 ? from_heap : from_buckets);
    live.erase(best_key);
    // A new pair near the best count; neighbours lose, some across 4096, some to 0; now and then
    // a count grows and is pushed again.
    const Pair made{static_cast<TokenId>(rng() % next), next};
    if (const uint64_t count = best_count - std::min<uint64_t>(best_count - 1, rng() % 6 * 8)) {
      queue.Push(live[PairKey(made)] = count, made);
    }
    ++next;
    for (int k = 0; k < 4; ++k) {
      const auto it = some_pair(next);
      if (it == live.end()) continue;
      const uint64_t before = it->second;
      it->second -= std::min<uint64_t>(it->second, rng() % 2 == 0 ? 8 : rng() % 3000);
      crossed += before >= 4096 && it->second < 4096;
      if (it->second == 0) live.erase(it);
    }
    if (const auto it = some_pair(next); it != live.end() && rng() % 10 == 0) {
      queue.Push(it->second += 8 + rng() % 2000, PairFromKey(it->first));
    }
  }
  EXPECT_TRUE(live.empty());
  EXPECT_GT(crossed, 50u);
  EXPECT_GT(from_heap, 500u);
  EXPECT_GT(from_buckets, 500u);
}

class TrainerTest : public ::testing::TestWithParam<std::string> {
 protected:
  TrainResult Train(const WordCounts& counts, uint32_t vocab, uint64_t min_frequency = 1) {
    return TrainWith(GetParam(), counts, vocab, min_frequency);
  }
  void ExpectSameAsReference(const WordCounts& counts, uint32_t vocab, uint64_t min_frequency = 1) {
    const TrainResult reference = TrainWith(std::string(kReferenceTrainer), counts, vocab, min_frequency);
    const MergeList& expected = reference.merges;
    const TrainResult result = Train(counts, vocab, min_frequency);
    const MergeList& actual = result.merges;
    EXPECT_EQ(result.stop, reference.stop) << "the stop reason differs from the reference's";
    ASSERT_EQ(actual.size(), expected.size());
    for (size_t k = 0; k < expected.size(); ++k) {
      ASSERT_EQ(actual[k], expected[k]) << "first difference at merge " << k;
    }
  }
};

// Worked out by hand (the word counts of HF's course example):
//   hug x10, pug x5, pun x12, bun x4, hugs x5
//   pair counts: u+g 20, p+u 17, u+n 16, h+u 15, g+s 5, b+u 4
TEST_P(TrainerTest, KnownAnswerWorkedByHand) {
  const WordCounts counts = {{"bun", 4}, {"hug", 10}, {"hugs", 5}, {"pug", 5}, {"pun", 12}};
  const TrainResult r = Train(counts, 300);
  const MergeList expected = {
      {'u', 'g'},  // 256 'ug'  : 20 (hug 10 + pug 5 + hugs 5)
      {'u', 'n'},  // 257 'un'  : 16 (pun 12 + bun 4)
      {'h', 256},  // 258 'hug' : 15 (hug 10 + hugs 5)
      {'p', 257},  // 259 'pun' : 12
      {'p', 256},  // 260 'pug' : 5, ties with hug+s (258,115): the smaller left id 112 wins
      {258, 's'},  // 261 'hugs': 5
      {'b', 257},  // 262 'bun' : 4
  };
  EXPECT_EQ(r.merges, expected);
  EXPECT_EQ(r.stop, StopReason::kNoPairs);  // 263 tokens < 300: every word is one token
}

TEST_P(TrainerTest, RunsCountEveryPositionAndMergeLeftToRight) {
  // "aaa" contributes 2 to (a,a) and becomes [aa, a]; (b,c) has 1. Then (aa,a) and (b,c) tie at 1:
  // (98,99) < (256,97).
  const TrainResult r = Train({{"aaa", 1}, {"bc", 1}}, 1000);
  const MergeList expected = {{'a', 'a'}, {'b', 'c'}, {256, 'a'}};
  EXPECT_EQ(r.merges, expected);
  // "aaaa" -> [aa, aa] -> [aaaa]; the second merge sees (aa,aa) once per word.
  EXPECT_EQ(Train({{"aaaa", 3}}, 1000).merges, (MergeList{{'a', 'a'}, {256, 256}}));
}

TEST_P(TrainerTest, MatchesReferenceOnEveryCorpus) {
  std::vector<std::string> names = test::SmallCorpusNames();
  names.push_back("gutenberg93");
  for (const auto& name : test::PresentCorpora(names)) {
    SCOPED_TRACE(name);
    ExpectSameAsReference(Count(test::CorpusSlice(name, 300'000 / test::kSanitizerDivisor), "gpt2"), 1000);
  }
  BPEBENCH_REQUIRE_CORPORA(names);  // the corpora present passed; the others were not checked
}

TEST_P(TrainerTest, MatchesReferenceWithEveryPreTokenizer) {
  BPEBENCH_REQUIRE_CORPORA("python_stdlib");
  const std::string text = test::CorpusSlice("python_stdlib", 100'000);
  for (const auto& pre : PreTokenizers()) {
    SCOPED_TRACE(std::string(pre.name));
    ExpectSameAsReference(Count(text, std::string(pre.name)), 600);
  }
}

TEST_P(TrainerTest, MatchesReferenceAtEveryVocabSize) {
  const WordCounts counts = Count(test::CorpusSlice("gutenberg5", 150'000), "gpt2");
  for (uint32_t vocab : {256u, 257u, 300u, 1000u, 5000u}) {
    SCOPED_TRACE(vocab);
    ExpectSameAsReference(counts, vocab);
  }
  EXPECT_TRUE(Train(counts, 256).merges.empty());
  EXPECT_EQ(Train(counts, 257).merges.size(), 1u);
}

TEST_P(TrainerTest, MatchesReferenceOnTieAndRunHeavyInputs) {
  const std::vector<std::string> texts = {
      std::string(1000, 'a'),
      std::string(999, 'a'),
      [] { std::string s; for (int i = 0; i < 500; ++i) s += "ab"; return s; }(),
      [] { std::string s; for (int i = 0; i < 300; ++i) s += "abc"; return s + "ab"; }(),
      std::string(200, '\n'),
      "aaaa aaa aa a aaaaa aaaaaaaa aaaaaaaaa",
      "ab ba ab ba aab bba abab baba aabb bbaa",
  };
  for (const auto& text : texts) {
    for (const char* pre : {"whitespace", "none"}) {
      SCOPED_TRACE(text.substr(0, 20) + " / " + pre);
      ExpectSameAsReference(Count(text, pre), 400);
    }
  }
}

// `linked` links the symbols of pieces of up to 65,536 bytes by 16-bit distances, of longer ones by
// 32-bit indexes (occurrences.h). A distance is the length of a token, so a limit set too high
// shows when a token of 65,536 bytes has neighbours that merge on: the run of "a" becomes one token
// (the lone run breaks the ties between (aa..., aa...) and (aa..., c) its way), then merges with
// "c", then with "d". The shorter runs make pieces of up to 65,536 bytes, with the longest links
// that fit.
TEST_P(TrainerTest, MatchesReferenceWithTokensAsLongAsTheLinksReach) {
  for (const size_t run : {size_t{32767}, size_t{32768}, size_t{65534}, size_t{65536}}) {
    SCOPED_TRACE(run);
    ExpectSameAsReference({{std::string(run, 'a'), 1}, {std::string(run, 'a') + "cd", 1}, {"dc" + std::string(run, 'a'), 1}}, 300);
  }
}

TEST_P(TrainerTest, MatchesReferenceOnThousandsOfSmallRandomCorpora) {
  std::mt19937_64 rng(20261123);
  for (int round = 0; round < 2000 / test::kSanitizerDivisor; ++round) {
    const std::string alphabet = std::string("abcd").substr(0, 1 + rng() % 4);
    WordCounts counts;
    const int words = 1 + static_cast<int>(rng() % 12);
    for (int w = 0; w < words; ++w) {
      counts.push_back({test::RandomText(rng, 1 + rng() % 10, alphabet), 1 + rng() % 5});
    }
    std::sort(counts.begin(), counts.end(), [](auto& a, auto& b) { return a.word < b.word; });
    counts.erase(std::unique(counts.begin(), counts.end(),
                             [](auto& a, auto& b) { return a.word == b.word; }),
                 counts.end());
    const auto vocab = static_cast<uint32_t>(256 + rng() % 40);
    const uint64_t min_frequency = 1 + rng() % 3;
    SCOPED_TRACE(round);
    ExpectSameAsReference(counts, vocab, min_frequency);
    if (HasFatalFailure()) return;
  }
}

TEST_P(TrainerTest, OrderOfWordCountsDoesNotMatter) {
  BPEBENCH_REQUIRE_CORPORA("tinyshakespeare");
  WordCounts counts = Count(test::CorpusSlice("tinyshakespeare", 50'000), "gpt2");
  const MergeList sorted = Train(counts, 500).merges;
  std::reverse(counts.begin(), counts.end());
  std::shuffle(counts.begin(), counts.end(), std::mt19937_64(7));
  EXPECT_EQ(Train(counts, 500).merges, sorted);
}

TEST_P(TrainerTest, MinFrequencyStopsTraining) {
  const WordCounts counts = Count(test::CorpusSlice("gutenberg5", 100'000), "gpt2");
  const TrainResult r = Train(counts, 5000, 50);
  EXPECT_EQ(r.stop, StopReason::kMinFrequency);
  EXPECT_GT(r.merges.size(), 10u);
  EXPECT_LT(r.merges.size(), 5000u - 256u);
  ExpectSameAsReference(counts, 5000, 50);
  // The next pair would occur fewer than 50 times: training on with min 49 can only add merges.
  EXPECT_GE(Train(counts, 5000, 49).merges.size(), r.merges.size());
}

// The boundary of every stop rule, on counts worked out by hand: (a,b) occurs 3 times, (c,d) twice.
// A pair with exactly min_frequency occurrences merges; one with one fewer stops the training.
TEST_P(TrainerTest, EveryStopReasonAtItsBoundary) {
  const WordCounts counts = {{"ab", 3}, {"cd", 2}};
  const MergeList ab = {{'a', 'b'}}, both = {{'a', 'b'}, {'c', 'd'}};
  TrainResult r = Train(counts, 1000, 3);
  EXPECT_EQ(r.merges, ab);
  EXPECT_EQ(r.stop, StopReason::kMinFrequency);  // (c,d) occurs 2 < 3 times
  r = Train(counts, 1000, 2);
  EXPECT_EQ(r.merges, both);  // (c,d) occurs exactly 2 times: it merges
  EXPECT_EQ(r.stop, StopReason::kNoPairs);
  r = Train(counts, 1000, 4);
  EXPECT_TRUE(r.merges.empty());
  EXPECT_EQ(r.stop, StopReason::kMinFrequency);
  r = Train(counts, 257, 1);
  EXPECT_EQ(r.merges, ab);
  EXPECT_EQ(r.stop, StopReason::kVocabSize);  // reached exactly, with a pair left
  r = Train(counts, 258, 1);
  EXPECT_EQ(r.merges, both);
  EXPECT_EQ(r.stop, StopReason::kVocabSize);  // reached and no pair left: the size is what it asked
  for (uint64_t min : {1, 2, 3, 4}) ExpectSameAsReference(counts, 1000, min);
}

TEST_P(TrainerTest, StopsEarlyWhenTheCorpusCannotReachTheVocabSize) {
  const TrainResult r = Train({{"abc", 2}, {" abd", 1}}, 100000);
  EXPECT_EQ(r.stop, StopReason::kNoPairs);
  // ab, abc, then " "+ab and ab+d tie at 1 and (32,256) wins, then " ab"+d: 4 merges in all.
  EXPECT_EQ(r.merges, (MergeList{{'a', 'b'}, {256, 'c'}, {' ', 256}, {258, 'd'}}));
}

TEST_P(TrainerTest, EmptyInputGivesNoMerges) {
  const TrainResult r = Train({}, 1000);
  EXPECT_TRUE(r.merges.empty());
  EXPECT_EQ(r.stop, StopReason::kNoPairs);
}

TEST_P(TrainerTest, VocabSizeBelowTheAlphabetIsAnError) {
  EXPECT_THROW(Train({{"ab", 1}}, 255), Error);
}

TEST_P(TrainerTest, CountsAbove32BitsPickTheRightPair) {
  // (x,y) has 2^32 + 1 occurrences, (a,b) 2^32 - 1 + 3: with 32-bit counters (x,y) would wrap to 1.
  const uint64_t big = uint64_t{1} << 32;
  const WordCounts counts = {{"ab", big - 1}, {"abab", 1}, {"xy", big + 1}};
  const TrainResult r = Train(counts, 257);
  ASSERT_EQ(r.merges.size(), 1u);
  EXPECT_EQ(r.merges[0], (Pair{'a', 'b'}));  // 2^32 + 1 vs 2^32 + 1: tie, (a,b) < (x,y)
  const WordCounts more = {{"ab", big - 1}, {"xy", big + 1}};
  EXPECT_EQ(Train(more, 257).merges[0], (Pair{'x', 'y'}));
}

// Counts of gutenberg5 for `trainer`: 150 KB, or 20 KB for the reference, which is single-threaded
// and by far the slowest trainer.
WordCounts SliceFor(std::string_view trainer) {
  return Count(test::CorpusSlice("gutenberg5", trainer == kReferenceTrainer ? 20'000 : 150'000), "gpt2");
}

// Trainers that use threads (TrainOptions::threads) must give the same merges for every count; the
// TSan preset runs this test.
TEST_P(TrainerTest, ThreadCountDoesNotChangeMerges) {
  const WordCounts counts = SliceFor(GetParam());
  TrainOptions options;
  options.vocab_size = GetParam() == kReferenceTrainer ? 400 : 1000;
  const MergeList one = FindTrainer(GetParam()).make()->Train(counts, options).merges;
  EXPECT_EQ(one, TrainReference(counts, options.vocab_size));
  for (int threads : {2, 3, 8}) {
    options.threads = threads;
    EXPECT_EQ(FindTrainer(GetParam()).make()->Train(counts, options).merges, one) << threads << " threads";
  }
}

// A trainer that calls input_done reads the counts no more: freeing them there (as the CLI does)
// changes no merge, and it is called at most once.
TEST_P(TrainerTest, CountsFreedAtInputDoneChangeNothing) {
  const WordCounts counts = SliceFor(GetParam());
  TrainOptions options;
  options.vocab_size = GetParam() == kReferenceTrainer ? 400 : 2000;
  const MergeList expected = FindTrainer(GetParam()).make()->Train(counts, options).merges;
  WordCounts owned = counts;
  int calls = 0;
  options.input_done = [&] {
    ++calls;
    WordCounts().swap(owned);
  };
  EXPECT_EQ(FindTrainer(GetParam()).make()->Train(owned, options).merges, expected);
  EXPECT_LE(calls, 1);
  if (GetParam() == "linked" || GetParam() == "sharded") {
    EXPECT_EQ(calls, 1) << GetParam() << " frees the CLI's counts before its merge loop";
  }
}

// An exception from the progress callback (the CLI's Ctrl-C, a caller's own limit) reaches the
// caller and leaves no thread behind: `sharded` must stop its other threads, which wait for rounds.
TEST_P(TrainerTest, AnErrorInTheProgressCallbackReachesTheCaller) {
  const WordCounts counts = Count(test::CorpusSlice("gutenberg5", 40'000), "gpt2");
  for (int threads : {1, 2}) {
    TrainOptions options;
    options.vocab_size = 600;
    options.threads = threads;
    size_t calls = 0;
    options.progress = [&](const TrainProgress& p) {
      if (++calls == 3) throw std::runtime_error("stopped at " + std::to_string(p.merges_done));
    };
    try {
      FindTrainer(GetParam()).make()->Train(counts, options);
      ADD_FAILURE() << "no exception, " << threads << " threads";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "stopped at 192") << threads << " threads";
    }
  }
}

TEST_P(TrainerTest, MergesAlwaysFormAValidVocabulary) {
  BPEBENCH_REQUIRE_CORPORA("udhr59");
  const WordCounts counts = Count(test::CorpusSlice("udhr59", 200'000), "gpt2");
  const MergeList merges = Train(counts, 2000).merges;
  EXPECT_NO_THROW(Vocabulary v(merges));
}

// `sharded` deals the pieces round-robin over its threads, so the small corpora here put most
// merges in every shard; it applies a merge in a round on all threads from 256 recorded positions
// and on the calling thread below, which these corpora seldom reach. Both paths, forced by the
// environment variable (0: every merge in a round; a huge value: none), on text and on runs that
// overlap ("aaaa"), must give naive's merges for every thread count. TSan runs this.
TEST(ShardedTrainer, BothWaysOfApplyingAMergeGiveTheReferenceMerges) {
  std::string runs;
  for (int i = 1; i < 300; ++i) runs += std::string(static_cast<size_t>(i % 17 + 1), i % 3 ? 'a' : 'b') + " ";
  // With 2 threads, "aaaa" and "aaab" are one shard and "aaaaa" the other. The first merge, (a,a),
  // adds (aa,a) and takes it back in "aaaa" ([aa aa]) but not in the others, and (aa,a), 10 in
  // each shard, is the next merge: its count is the sum over the shards.
  const std::vector<WordCounts> inputs = {Count(test::CorpusSlice("gutenberg5", 40'000), "gpt2"),
                                          Count(runs, "whitespace"), {{"aaaa", 1}, {"aaaaa", 10}, {"aaab", 10}}};
  for (const char* parallel_from : {"0", "1000000000000"}) {
    struct Env {
      explicit Env(const char* value) { setenv("BPEBENCH_SHARDED_PARALLEL_FROM", value, 1); }
      ~Env() { unsetenv("BPEBENCH_SHARDED_PARALLEL_FROM"); }
    } env(parallel_from);
    for (const WordCounts& counts : inputs) {
      const MergeList expected = TrainReference(counts, 600);
      for (int shards : {2, 3, 8}) {  // 3 and 8: more than the cores of a 2-core machine
        TrainOptions options;
        options.vocab_size = 600;
        options.threads = shards;
        options.shards = shards;
        EXPECT_EQ(FindTrainer("sharded").make()->Train(counts, options).merges, expected)
            << shards << " shards, rounds from " << parallel_from << " positions";
      }
    }
  }
}

// The position lists of `linked` and `sharded` share one pool whose blocks move as they grow, are
// reused once freed, and above 2^14 entries are allocated one by one. Against one std::vector per
// list, through random appends, reservations and frees of many lists at once (one of them taking a
// quarter of the appends, so that it grows past 2^14), every list must read back exactly what was
// appended to it.
TEST(PositionPool, ListsReadBackWhatWasAppendedThroughGrowthAndReuse) {
  occurrences::PositionPool pool;
  std::vector<occurrences::PositionPool::List> lists(64);
  std::vector<std::vector<uint32_t>> model(lists.size());
  std::mt19937 rng(7);
  size_t largest = 0;
  for (uint32_t step = 0; step < 400'000; ++step) {
    const size_t l = rng() % 4 == 0 ? 0 : rng() % lists.size();
    const uint32_t op = rng() % 1000;
    if (op < 5 && l != 0) {
      pool.Free(lists[l]);
      model[l].clear();
    } else if (op < 10 && model[l].empty()) {
      pool.Reserve(lists[l], rng() % 40'000);
    } else {
      pool.Push(lists[l], step);
      model[l].push_back(step);
    }
    largest = std::max(largest, model[l].size());
    if (step % 997 == 0 || op < 10) {
      for (size_t k = 0; k < lists.size(); ++k) {
        ASSERT_EQ(std::vector<uint32_t>(lists[k].data, lists[k].data + lists[k].size), model[k])
            << "list " << k << " at step " << step;
      }
    }
  }
  EXPECT_GT(largest, size_t{1} << 14);
  for (auto& list : lists) pool.Free(list);
}

INSTANTIATE_TEST_SUITE_P(Registry, TrainerTest, ::testing::ValuesIn([] {
                           std::vector<std::string> names;
                           for (const auto& t : Trainers()) names.emplace_back(t.name);
                           return names;
                         }()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace bpe

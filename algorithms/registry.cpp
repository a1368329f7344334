// The registry tables. To add an algorithm: write trainers/<name>.cpp or encoders/<name>.cpp with a
// factory function, declare it below and add its row.
#include "algorithms/registry.h"

#include <fmt/format.h>

#include <set>
#include <vector>
#include <string>

#include "algorithms/core/error.h"

namespace bpe {

std::unique_ptr<Trainer> MakeNaiveTrainer();
std::unique_ptr<Trainer> MakePqTrainer();
std::unique_ptr<Trainer> MakeLinkedTrainer();
std::unique_ptr<Trainer> MakeShardedTrainer();

std::unique_ptr<Encoder> MakeNaiveEncoder(const Vocabulary&);
std::unique_ptr<Encoder> MakeRankEncoder(const Vocabulary&);
std::unique_ptr<Encoder> MakeHeapEncoder(const Vocabulary&);
std::unique_ptr<Encoder> MakeHybridEncoder(const Vocabulary&);
std::unique_ptr<Encoder> MakeBacktrackEncoder(const Vocabulary&);
std::unique_ptr<Encoder> MakeCachedEncoder(const Vocabulary&);

const PreTokenizer& WhitespacePreTokenizer();
const PreTokenizer& Gpt2PreTokenizer();
const PreTokenizer& NonePreTokenizer();
const PreTokenizer& Cl100kPreTokenizer();
const PreTokenizer& O200kPreTokenizer();

namespace {

constexpr TrainerInfo kTrainers[] = {
    {"naive", "textbook: recount every pair over all distinct words for every merge", true,
     MakeNaiveTrainer},
    {"pq", "incremental pair counts, pair->words index, lazy priority queue (heap + count buckets); touches only affected words",
     true, MakePqTrainer},
    {"linked", "exact positions: linked symbols, pair->occurrences index, lazy priority queue (Re-Pair)",
     true, MakeLinkedTrainer},
    {"sharded", "linked with the pieces dealt over threads: larger merges applied by all of them at once",
     true, MakeShardedTrainer},
};

constexpr EncoderInfo kEncoders[] = {
    {"naive", "textbook: apply merge 0 everywhere, then merge 1, ...", true, MakeNaiveEncoder},
    {"rank", "pair->rank hash map; per piece repeatedly merge the lowest-rank pair (tiktoken's loop)",
     true, MakeRankEncoder},
    {"heap", "linked symbols and a min-heap of (rank, position): O(n log n) per piece", true,
     MakeHeapEncoder},
    {"hybrid", "rank's scan below 16 bytes, heap from there: fast on words, never quadratic", true,
     MakeHybridEncoder},
    {"backtrack", "longest match, shortened until the pair with the previous token is valid: linear",
     true, MakeBacktrackEncoder},
    {"cached", "backtrack + bounded cache (64K) of its multi-token pieces of <= 16 bytes", true,
     MakeCachedEncoder},
};

constexpr PreTokenizerInfo kPreTokenizers[] = {
    {"whitespace", "whitespace run + non-whitespace run (ASCII whitespace)", WhitespacePreTokenizer},
    {"gpt2", "GPT-2's regex, Unicode letters/numbers/White_Space, as a linear scanner",
     Gpt2PreTokenizer},
    {"none", "each line with its newline is one piece (long pieces: encoders' worst case)",
     NonePreTokenizer},
    {"cl100k", "tiktoken cl100k_base's regex (case-insensitive contractions, digits in threes), as a scanner",
     Cl100kPreTokenizer},
    {"o200k", "tiktoken o200k_base's regex (letter case runs, marks, digits in threes), as a scanner",
     O200kPreTokenizer},
};

// tiktoken refuses duplicate encoding names; so do we, once, on first use.
template <typename Info>
std::span<const Info> Checked(std::span<const Info> table, std::string_view kind) {
  std::set<std::string_view> seen;
  for (const Info& info : table) {
    if (!seen.insert(info.name).second) Fail("two {}s are registered as '{}'", kind, info.name);
  }
  return table;
}

template <typename Info>
const Info& Find(std::span<const Info> table, std::string_view name, std::string_view kind) {
  std::string known;
  for (const Info& info : table) {
    if (info.name == name) return info;
    known += known.empty() ? "" : ", ";
    known += info.name;
  }
  Fail("unknown {} '{}' (known: {})", kind, name, known);
}

}  // namespace

// A test build may link a definition (tests/wrong_encoder.cpp registers an encoder that is wrong on
// purpose, to show that the harness catches it). Weak: the library and the programs define none.
[[gnu::weak]] std::span<const EncoderInfo> TestOnlyEncoders();

std::span<const TrainerInfo> Trainers() {
  static const auto table = Checked<TrainerInfo>(kTrainers, "trainer");
  return table;
}
std::span<const EncoderInfo> Encoders() {
  static const std::vector<EncoderInfo> table = [] {
    std::vector<EncoderInfo> all(std::begin(kEncoders), std::end(kEncoders));
    if (TestOnlyEncoders) {  // weak: null unless a test build links a definition
      for (const EncoderInfo& e : TestOnlyEncoders()) all.push_back(e);
    }
    Checked<EncoderInfo>(all, "encoder");
    return all;
  }();
  return table;
}
std::span<const PreTokenizerInfo> PreTokenizers() {
  static const auto table = Checked<PreTokenizerInfo>(kPreTokenizers, "pre-tokenizer");
  return table;
}

const TrainerInfo& FindTrainer(std::string_view name) { return Find(Trainers(), name, "trainer"); }
const EncoderInfo& FindEncoder(std::string_view name) { return Find(Encoders(), name, "encoder"); }
const PreTokenizerInfo& FindPreTokenizer(std::string_view name) {
  return Find(PreTokenizers(), name, "pre-tokenizer");
}

}  // namespace bpe

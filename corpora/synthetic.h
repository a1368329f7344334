// Synthetic text with the shape of web text at any size: word frequencies follow Zipf's law over a
// large set of word types, so distinct words keep growing with the size of the text (Heaps' law),
// as they do in web crawls and unlike a corpus joined to itself (whose distinct pieces stop growing
// after one copy). For measuring training at scale (`bpebench corpus --synthetic`,
// scripts/train-scale, the harness's train_text rows on `synthetic`); never committed.
//
// The model (docs/benchmarking.md#synthetic-text):
//   - word type r (r = 1 .. types, by frequency) is drawn with probability proportional to r^-zipf
//     (rejection-inversion sampling, Hormann and Derflinger 1996; the 4096 most frequent by an
//     alias table);
//   - its length is 2 + 0.4 ln r plus a whole number in -2..2 (at least 1, at most 24): frequent
//     words are short, the rare ones about 9 letters, as in English;
//   - its letters follow the letter statistics of the default corpus (gutenberg5, bundled): the
//     first letter from the distribution of word-initial letters, each next one from the
//     distribution of the letters that follow the previous one inside words;
//   - with several scripts, each type is written in one of them (types spread evenly), its 26
//     letters mapped to 26 letters of the script (Cyrillic, Greek: two-byte UTF-8);
//   - a word is followed by "," (5%) or "." (4%, and the next word capitalized if Latin); words
//     are separated by a space, or by a newline when a line would pass 71 bytes.
// Everything is decided by the seed: the same options give the same bytes for any thread count
// (the text is made in blocks of about 1 MiB, block k from its own stream of random numbers).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bpe {

struct SyntheticOptions {
  uint64_t bytes = 100'000'000;    // the text's length: exactly this many bytes, cut at a character boundary (up to 3 fewer)
  uint64_t seed = 1;
  uint64_t types = 50'000'000;     // word types, 1 .. 2^40
  double zipf = 1.07;              // Zipf exponent, 1.0001 .. 4
  std::vector<std::string> scripts = {"latin"};  // latin, cyrillic, greek
  int threads = 1;
};

// The scripts SyntheticOptions::scripts may name.
std::vector<std::string> SyntheticScripts();

// Checks the options (a bpe::Error says which is out of range) and calls sink with the text in
// consecutive blocks (each at most a little over 1 MiB), in order.
void GenerateSynthetic(const SyntheticOptions& options, const std::function<void(std::string_view)>& sink);

// The whole text in memory.
std::string SyntheticText(const SyntheticOptions& options);

}  // namespace bpe

// Times one trainer from word counts (round 11 of issue 6; output in ab.txt). Not part of the
// build. Built twice, against the library of each side of an A/B, and run alternately:
//   g++ -O3 -DNDEBUG -march=native -std=c++20 -I. results/issue6/round11/train_ms.cpp \
//     build/release/algorithms/libbpebench_algorithms.a -lfmt -lpthread -o /tmp/train_new
// Run: train_ms TEXTFILE TRAINER VOCAB THREADS RUNS: counts the words once (2 threads), trains RUNS
// times, prints the median and the fastest run in ms.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "algorithms/core/file_io.h"
#include "algorithms/core/memory.h"
#include "algorithms/core/registry.h"
#include "algorithms/core/text.h"

using namespace bpe;

int main(int argc, char** argv) {
  if (argc != 6) return 2;
  TuneAllocator();
  const WordCounts counts = CountWords(ReadFile(argv[1]), FindPreTokenizer("gpt2").get(), 2);
  const auto trainer = FindTrainer(argv[2]).make();
  TrainOptions options;
  options.vocab_size = static_cast<uint32_t>(atoi(argv[3]));
  options.threads = atoi(argv[4]);
  std::vector<double> ms;
  size_t merges = 0;
  for (int r = 0; r < atoi(argv[5]); ++r) {
    const auto start = std::chrono::steady_clock::now();
    merges = trainer->Train(counts, options).merges.size();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%s %zu merges: median %.1f ms, min %.1f ms\n", argv[2], merges, ms[ms.size() / 2], ms[0]);
}

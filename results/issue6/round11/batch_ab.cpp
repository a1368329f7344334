// In-process A/B of `linked`'s merge loop (round 11 of issue 6; output in ab.txt). Not part of the
// build. From the repository root, after `cmake --build --preset release`:
//   g++ -O3 -DNDEBUG -march=native -std=c++20 -I. results/issue6/round11/batch_ab.cpp \
//     build/release/algorithms/libbpebench_algorithms.a -lfmt -lpthread -o /tmp/batch_ab
// Run: batch_ab TEXTFILE VOCAB RUNS. Counts the words once (2 threads), then trains `linked` from
// the counts with threads 1 (one merge at a time) and 2 (batches on two threads), alternated;
// prints the medians, the ratio of the medians and the batches' figures.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "algorithms/core/file_io.h"
#include "algorithms/core/memory.h"
#include "algorithms/core/registry.h"
#include "algorithms/core/text.h"
#include "algorithms/trainers/linked.h"

using namespace bpe;

static double NowMs() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  TuneAllocator();
  const std::string text = ReadFile(argv[1]);
  const WordCounts counts = CountWords(text, FindPreTokenizer("gpt2").get(), 2);
  const auto trainer = FindTrainer("linked").make();
  const int runs = atoi(argv[3]);
  std::vector<double> ms[2];
  MergeList merges[2];
  for (int r = 0; r < runs; ++r) {
    for (int k = 0; k < 2; ++k) {
      const int which = r % 2 ? 1 - k : k;
      TrainOptions options;
      options.vocab_size = static_cast<uint32_t>(atoi(argv[2]));
      options.threads = which + 1;
      const double start = NowMs();
      merges[which] = trainer->Train(counts, options).merges;
      ms[which].push_back(NowMs() - start);
    }
  }
  if (merges[0] != merges[1]) {
    std::printf("MISMATCH\n");
    return 1;
  }
  for (auto& v : ms) std::sort(v.begin(), v.end());
  std::printf("linked from counts, %zu merges, %d runs: 1 thread %.1f ms, 2 threads %.1f ms (medians), ratio %.2fx\n",
              merges[0].size(), runs, ms[0][runs / 2], ms[1][runs / 2], ms[0][runs / 2] / ms[1][runs / 2]);
  const LinkedBatchStats s = LastLinkedBatchStats();
  std::printf("batches %lu (on two threads %lu), popped %lu, kept %lu (%.1f a batch), cut beside %lu, cut beaten %lu\n",
              s.batches, s.parallel, s.popped, s.kept, double(s.kept) / s.batches, s.cut_beside, s.cut_beaten);
}

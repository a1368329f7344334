// In-process A/B of trainers (rounds 8 of issue 6; output in prefetch-ab.txt). Not part of the build.
// The trainers of an older commit C are compiled into the same program, under other names, with the
// release preset's flags. From the repository root, after `cmake --build --preset release`:
//   d=$(mktemp -d); mkdir -p $d/old
//   git show C:algorithms/trainers/occurrences.h | sed 's/namespace bpe::occurrences/namespace bpe::oldocc/' > $d/old/occurrences.h
//   for f in sharded linked; do git show C:algorithms/trainers/$f.cpp | sed -e 's|"algorithms/trainers/occurrences.h"|"old/occurrences.h"|' \
//     -e 's/using namespace occurrences;/using namespace oldocc;/' -e 's/MakeShardedTrainer/MakeOldSharded/' -e 's/MakeLinkedTrainer/MakeOldLinked/' > $d/old$f.cpp; done
//   g++ -O3 -DNDEBUG -march=native -falign-functions=64 -falign-loops=64 -std=c++20 -I. -I$d results/issue6/round8/ab_trainers.cpp \
//     $d/oldsharded.cpp $d/oldlinked.cpp build/release/algorithms/libbpebench_algorithms.a -lfmt -lpthread -o $d/ab
// (Round 6's program was built with -O2, which made the old copies about 10% slower than the
// library's own: compare only copies built with the same flags.)
// Run: ab VOCAB E2E SPEC...   E2E 0: from word counts (counted once, 1 thread); 1: count on T threads
// and train. SPEC: alg:T[:P] (P sets BPEBENCH_SHARDED_PARALLEL_FROM). IT=runs (default 21);
// FILE=path reads that text instead of gutenberg5's five books. The allocator is tuned as in the CLI.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <memory>
#include "algorithms/core/registry.h"
#include "algorithms/core/memory.h"
#include "algorithms/core/text.h"
#include "algorithms/core/trainer.h"
namespace bpe { std::unique_ptr<Trainer> MakeOldSharded(); std::unique_ptr<Trainer> MakeOldLinked(); }
using namespace bpe;
std::unique_ptr<Trainer> Make(const std::string& a) {
  if (a == "oldsharded") return MakeOldSharded();
  if (a == "oldlinked") return MakeOldLinked();
  return FindTrainer(a).make();
}
// usage: ab5 vocab e2e(0/1) spec... where spec = alg:threads
int main(int argc, char** argv) {
  TuneAllocator();
  std::string text;
  for (const char* f : {"pg11_alice_in_wonderland.txt", "pg1342_pride_and_prejudice.txt", "pg1661_adventures_of_sherlock_holmes.txt", "pg2701_moby_dick.txt", "pg84_frankenstein.txt"}) {
    std::ifstream in(std::string("/work/shared/corpora/gutenberg5/") + f, std::ios::binary);
    std::stringstream ss; ss << in.rdbuf(); text += ss.str();
  }
  if (getenv("FILE")) { std::ifstream in(getenv("FILE"), std::ios::binary); std::stringstream ss; ss << in.rdbuf(); text = ss.str(); }
  const auto& pre = FindPreTokenizer("gpt2").get();
  const bool e2e = atoi(argv[2]);
  auto counts1 = CountWords(text, pre, 1);
  { uint64_t tot = 0, n2 = 0; for (auto& wc : counts1) if (wc.word.size() >= 2) { tot += wc.word.size(); ++n2; } printf("pieces %lu, symbols %lu\n", n2, tot); }
  int n = argc - 3;
  std::vector<std::vector<double>> ms(n);
  MergeList ref;
  const int iters = getenv("IT") ? atoi(getenv("IT")) : 21;
  for (int it = 0; it < iters; ++it) {
    for (int kk = 0; kk < n; ++kk) {
      const int k = (it % 2) ? n - 1 - kk : kk;
      std::string spec = argv[3 + k];
      auto c1 = spec.find(':'); auto c2 = spec.find(':', c1 + 1);
      std::string alg = spec.substr(0, c1);
      TrainOptions o; o.vocab_size = atoi(argv[1]); o.threads = atoi(spec.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1).c_str());
      if (c2 != std::string::npos) setenv("BPEBENCH_SHARDED_PARALLEL_FROM", spec.substr(c2 + 1).c_str(), 1); else unsetenv("BPEBENCH_SHARDED_PARALLEL_FROM");
      auto a = std::chrono::steady_clock::now();
      TrainResult r;
      if (e2e) { auto c = CountWords(text, pre, o.threads); r = Make(alg)->Train(c, o); }
      else r = Make(alg)->Train(counts1, o);
      ms[k].push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
      if (ref.empty()) ref = r.merges; else if (!(r.merges == ref)) { printf("MISMATCH %s\n", spec.c_str()); return 1; }
    }
  }
  for (int k = 0; k < n; ++k) {
    std::sort(ms[k].begin(), ms[k].end());
    printf("%-16s median %7.2f ms  q1 %7.2f  min %7.2f\n", argv[3 + k], ms[k][ms[k].size()/2], ms[k][ms[k].size()/4], ms[k][0]);
  }
}

// In-process A/B of word counting, both sides built the same way (round 10 of issue 6; output in
// ab.txt). Not part of the build. round9/count_ab.cpp linked the new side from the release library
// and compiled only the old side here, without the preset's -falign-* flags: with identical 1-thread
// code the two sides then differed by 5-7%. Here both text.cpp copies are cut before WordCounter and
// put in namespaces bpe::old and bpe::neu, from the repository root, after
// `cmake --build --preset release` (A and B: commits or files):
//   d=$(mktemp -d); mk(){ /usr/bin/python3 -c "import sys; s=open(sys.argv[1]).read();
//     s=s[:s.index('WordCounter::WordCounter')]+'}}\n'; s=s.replace('namespace bpe {','namespace bpe {\nnamespace '+sys.argv[2]+' {',1)
//     print(s.replace('SplitAtSafeBoundaries','SplitAtSafeBoundaries_'+sys.argv[2]))" $1 $2; }
//   git show A:algorithms/core/text.cpp > $d/a.cpp; git show B:algorithms/core/text.cpp > $d/b.cpp
//   mk $d/a.cpp old > $d/old.cpp; mk $d/b.cpp neu > $d/neu.cpp
//   g++ -O3 -DNDEBUG -march=native -falign-functions=64 -falign-loops=64 -std=c++20 -I. \
//     results/issue6/round10/count_ab2.cpp $d/old.cpp $d/neu.cpp build/release/algorithms/libbpebench_algorithms.a \
//     -lfmt -lpthread -o $d/count_ab2
// Run: count_ab2 TEXTFILE RUNS (old and new, 1 and 2 threads, alternated; medians).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <algorithm>
#include <vector>
#include "algorithms/core/registry.h"
#include "algorithms/core/memory.h"
#include "algorithms/core/text.h"
namespace bpe::neu { WordCounts CountWords(std::string_view text, const PreTokenizer& pre, int threads); }
namespace bpe::old { WordCounts CountWords(std::string_view text, const PreTokenizer& pre, int threads); }
using namespace bpe;
static double NowMs(){return std::chrono::duration<double,std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();}
int main(int argc,char**argv){
  TuneAllocator();
  std::ifstream in(argv[1],std::ios::binary); std::stringstream ss; ss<<in.rdbuf(); std::string text=ss.str();
  const PreTokenizer& pre=FindPreTokenizer("gpt2").get();
  std::vector<double> v[4];
  int it = atoi(argv[2]);
  for(int i=0;i<it;i++){
    for (int k = 0; k < 4; ++k) {
      int kk = (i % 2) ? 3 - k : k;
      int t = kk % 2 + 1; bool neu = kk >= 2;
      double a=NowMs(); WordCounts c = neu ? neu::CountWords(text,pre,t) : old::CountWords(text,pre,t); v[kk].push_back(NowMs()-a);
      if (c.size() < 1000) return 1;
    }
  }
  const char* nm[]={"old 1t","old 2t","new 1t","new 2t"};
  for(int k=0;k<4;k++){ std::sort(v[k].begin(),v[k].end()); printf("%s median %.1f q1 %.1f min %.1f\n",nm[k],v[k][it/2],v[k][it/4],v[k][0]); }
}

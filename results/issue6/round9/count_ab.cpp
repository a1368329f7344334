// In-process A/B of word counting (round 9 of issue 6; output in ab.txt). Not part of the build.
// The old text.cpp of commit C goes into namespace bpe::old (cut before WordCounter), from the
// repository root, after `cmake --build --preset release`:
//   d=$(mktemp -d); git show C:algorithms/core/text.cpp | /usr/bin/python3 -c "import sys; s=sys.stdin.read();
//     s=s[:s.index('WordCounter::WordCounter')]+'}}\n'; s=s.replace('namespace bpe {','namespace bpe {\nnamespace old {',1);
//     print(s.replace('SplitAtSafeBoundaries','SplitAtSafeBoundariesOld'))" > $d/oldtext.cpp
//   g++ -O3 -DNDEBUG -march=native -std=c++20 -I. results/issue6/round9/count_ab.cpp $d/oldtext.cpp \
//     build/release/algorithms/libbpebench_algorithms.a -lfmt -lpthread -o $d/count_ab
// Run: count_ab TEXTFILE RUNS (old and new, 1 and 2 threads, alternated; medians).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <algorithm>
#include <vector>
#include "algorithms/core/registry.h"
#include "algorithms/core/memory.h"
#include "algorithms/core/text.h"
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
      double a=NowMs(); WordCounts c = neu ? CountWords(text,pre,t) : old::CountWords(text,pre,t); v[kk].push_back(NowMs()-a);
      if (c.size() < 1000) return 1;
    }
  }
  const char* nm[]={"old 1t","old 2t","new 1t","new 2t"};
  for(int k=0;k<4;k++){ std::sort(v[k].begin(),v[k].end()); printf("%s median %.1f q1 %.1f min %.1f\n",nm[k],v[k][it/2],v[k][it/4],v[k][0]); }
}

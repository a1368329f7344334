// The harness's counting mode (--measure instructions): each benchmark's measured region runs under
// Valgrind's Callgrind with its cache simulation, and the benchmark reports what Callgrind counted
// there instead of a time. Counts do not move with the neighbours' load as wall clock does on a
// shared machine, so scripts/compare --instructions can fail CI on a few percent (docs/benchmarking.md).
//
// How a region is counted: the harness runs under
//   valgrind --tool=callgrind --cache-sim=yes --instr-atstart=no (fixed cache sizes, see counting.cpp)
// which it starts itself (StartUnderValgrind). Nothing is instrumented while the corpora load and
// the outputs are checked; instrumentation starts once, before the first benchmark. A benchmark runs
// its loop twice: the first iteration warms the simulated caches, the second is the measured region
// (CALLGRIND_ZERO_STATS at its start, CALLGRIND_DUMP_STATS_AT at its end), so a count does not
// depend on which benchmark ran before. The dump's totals become the benchmark's counters:
//   instructions  Ir, instructions executed
//   l1_misses     I1mr + D1mr + D1mw, first-level misses (instruction fetch, data read, data write)
//   ll_misses     ILmr + DLmr + DLmw, last-level misses
//   est_cycles    instructions + 10 x l1_misses + 100 x ll_misses
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bpe::harness {

// Weights of the estimated-cycles figure: a first-level miss that hits the last level costs about 10
// cycles, a last-level miss (memory) about 100 (the usual round figures; Cachegrind's docs and
// iai-callgrind use the same order of magnitude).
inline constexpr uint64_t kL1MissCycles = 10;
inline constexpr uint64_t kLLMissCycles = 100;

// True in counting mode (set once by EnableCounting, before the benchmarks are registered).
bool Counting();
// Turns counting mode on. Fails with a clear message unless the process runs under Callgrind with
// the harness's options (StartUnderValgrind sets them); adds Valgrind's version, its options and the
// estimated-cycles formula to the results' context.
void EnableCounting();
// Outside Valgrind: runs `valgrind --tool=callgrind ... <this program> <args>` in a fixed-length
// temporary folder with a fixed environment (counting.cpp says why), waits for it, copies its
// results to --out and exits with its status. Under Valgrind (that copy): returns. Fails with a
// clear message when valgrind is missing, or when this build uses instructions Valgrind 3.19 cannot
// decode (AVX-512: build the `count` preset, as scripts/bench --instructions does).
void StartUnderValgrind(const std::vector<std::string>& args);
// Called once before the first benchmark: instrumentation on (the checks before ran uninstrumented).
void StartInstrumentation();

// for (auto _ : Measure(st)) { ... }: Google Benchmark's loop; in counting mode the last iteration
// is counted and its counts are set as the benchmark's counters.
class Measure {
 public:
  explicit Measure(benchmark::State& st) : st_(st) {}
  class Iterator {
   public:
    Iterator(benchmark::State::StateIterator inner, benchmark::State* st) : inner_(inner), st_(st) {}
    bool operator!=(const Iterator& end);
    Iterator& operator++() {
      ++inner_;
      ++index_;
      return *this;
    }
    auto operator*() const { return *inner_; }

   private:
    benchmark::State::StateIterator inner_;
    benchmark::State* st_;
    benchmark::IterationCount index_ = 0;
    bool counting_ = false;
  };
  Iterator begin() { return Iterator(st_.begin(), &st_); }
  Iterator end() { return Iterator(st_.end(), nullptr); }

 private:
  benchmark::State& st_;
};

// The counted benchmarks' allocator (counting_alloc.cpp, in the `count` preset's build; elsewhere
// these do nothing): from ArenaBegin to ArenaEnd, around each benchmark function in counting mode,
// allocations come from an arena at a fixed address that ArenaBegin empties, so they cost and land
// the same in every run.
void ArenaBegin();
void ArenaEnd();

// Iterations per benchmark in counting mode: one that warms the simulated caches, one counted.
inline constexpr int kCountingIterations = 2;

}  // namespace bpe::harness

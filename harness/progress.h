// The sweep's progress display on stderr. Before the benchmarks, every check is a numbered line.
// Then repetitions are interleaved at random across benchmarks, so benchmarks finish late and out
// of order: the display counts repetitions as they are measured, prints a line when a benchmark
// finishes and every 10 s a line naming what is being measured, how far along the run is, the time
// spent and the time left, estimated from the plan and corrected by the pace measured so far.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness/sweep.h"

namespace bpe::harness {

class Progress : public ProgressSink {
 public:
  Progress() : start_(std::chrono::steady_clock::now()) {}
  void Checking(const std::string& name) override;
  // The checks are done; measuring begins. `ticker`: a thread prints the status every 10 s (not when
  // counting: Callgrind would count its work in whichever benchmark it woke up in).
  void Start(const Plan& plan, bool ticker = true);
  void Running(size_t index) override;
  void RepetitionDone(size_t index) override;
  // A result reported under Google Benchmark's name (our name plus its suffixes).
  void Finished(const std::string& run_name);
  void Stop() { ticker_ = {}; }

  // The time left, from the estimates of the repetitions not yet measured, scaled by the pace so far
  // (measured time over the estimates of what was measured). Exposed for the tests.
  static double TimeLeft(double estimate_total, double estimate_done, double measured_s);

 private:
  void Print(const std::string& what);  // with mu_ held
  double Elapsed(std::chrono::steady_clock::time_point since) const;

  const Plan* plan_ = nullptr;
  const std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point measure_start_;
  std::mutex mu_;  // guards everything below and the output
  size_t checks_ = 0;
  double checks_s_ = 0;
  double total_estimate_s_ = 0, done_estimate_s_ = 0;
  size_t total_reps_ = 0, done_reps_ = 0;
  std::vector<int> reps_;  // repetitions measured, per planned run
  std::set<size_t> finished_;
  size_t current_ = SIZE_MAX;
  std::jthread ticker_;
};

// Google Benchmark's console table, plus a progress line for each benchmark it reports.
class ProgressReporter : public benchmark::ConsoleReporter {
 public:
  explicit ProgressReporter(Progress& progress) : progress_(progress) {}
  void ReportRuns(const std::vector<Run>& runs) override;

 private:
  Progress& progress_;
};

}  // namespace bpe::harness

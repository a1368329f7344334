// The sweep's progress display on stderr. Repetitions are interleaved at random across benchmarks,
// so benchmarks finish out of order: a line when each finishes, and every 10 s a line naming what is
// being measured, how many are complete, the time spent and an estimate of the time left.
#pragma once

#include <benchmark/benchmark.h>

#include <atomic>
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
  void Start(const Plan& plan);
  void Running(size_t index) override { current_ = index; }
  // A result reported under Google Benchmark's name (our name plus its suffixes).
  void Finished(const std::string& run_name);
  void Stop() { ticker_ = {}; }

 private:
  void Print(const std::string& what);

  const Plan* plan_ = nullptr;
  std::chrono::steady_clock::time_point start_;
  double total_s_ = 0;
  std::atomic<size_t> current_{SIZE_MAX};
  std::mutex mu_;  // guards finished_ and the output
  std::set<size_t> finished_;
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

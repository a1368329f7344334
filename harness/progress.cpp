#include "harness/progress.h"

#include <fmt/core.h>

#include <algorithm>
#include <condition_variable>
#include <stop_token>

namespace bpe::harness {

double Progress::Elapsed(std::chrono::steady_clock::time_point since) const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

double Progress::TimeLeft(double estimate_total, double estimate_done, double measured_s) {
  const double left = std::max(estimate_total - estimate_done, 0.0);
  // Too little measured yet to judge the pace: trust the plan.
  if (estimate_done < 10 && estimate_done < 0.05 * estimate_total) return std::max(left, estimate_total - measured_s);
  return left * std::clamp(measured_s / std::max(estimate_done, 1e-9), 0.25, 4.0);
}

void Progress::Checking(const std::string& name) {
  std::lock_guard lock(mu_);
  ++checks_;
  fmt::print(stderr, "[check {}, elapsed {:.0f} s] {} ...\n", checks_, Elapsed(start_), name);
}

void Progress::Start(const Plan& plan, bool ticker) {
  {
    std::lock_guard lock(mu_);
    plan_ = &plan;
    checks_s_ = Elapsed(start_);
    measure_start_ = std::chrono::steady_clock::now();
    reps_.assign(plan.runs.size(), 0);
    for (const auto& r : plan.runs) {
      total_estimate_s_ += r.estimate_s;
      total_reps_ += static_cast<size_t>(r.repetitions);
    }
    fmt::print(stderr, "{} checks done in {:.0f} s; measuring {} benchmarks, {} repetitions, about {:.0f} s\n",
               checks_, checks_s_, plan.runs.size(), total_reps_, total_estimate_s_);
  }
  if (!ticker) return;
  ticker_ = std::jthread([this](std::stop_token stop) {
    std::mutex mu;
    std::unique_lock lock(mu);
    std::condition_variable_any cv;
    while (true) {
      cv.wait_for(lock, stop, std::chrono::seconds(10), [] { return false; });
      if (stop.stop_requested()) return;
      std::lock_guard guard(mu_);
      Print("running");
    }
  });
}

void Progress::Running(size_t index) {
  std::lock_guard lock(mu_);
  current_ = index;
}

void Progress::RepetitionDone(size_t index) {
  std::lock_guard lock(mu_);
  if (!plan_ || index >= reps_.size() || reps_[index] >= plan_->runs[index].repetitions) return;
  ++reps_[index];
  ++done_reps_;
  done_estimate_s_ += plan_->runs[index].estimate_s / plan_->runs[index].repetitions;
}

void Progress::Finished(const std::string& run_name) {
  std::lock_guard lock(mu_);
  if (!plan_) return;
  for (size_t i = 0; i < plan_->runs.size(); ++i) {  // our name, before Google Benchmark's suffixes
    const Planned& planned = plan_->runs[i];
    if (run_name != planned.name && run_name.rfind(planned.name + "/", 0) != 0) continue;
    if (!finished_.insert(i).second) continue;
    // Every repetition of a finished benchmark is done, counted or not.
    for (; reps_[i] < planned.repetitions; ++reps_[i]) {
      ++done_reps_;
      done_estimate_s_ += planned.estimate_s / planned.repetitions;
    }
    Print("done " + planned.name);
  }
}

void Progress::Print(const std::string& what) {
  const double measured = Elapsed(measure_start_);
  const std::string detail =
      what == "running" && current_ < plan_->runs.size() ? "running " + plan_->runs[current_].name : what;
  fmt::print(stderr, "[{}/{} repetitions, {}/{} benchmarks complete] elapsed {:.0f} s ({:.0f} s of {} checks), about {:.0f} s left: {}\n",
             done_reps_, total_reps_, finished_.size(), plan_->runs.size(), checks_s_ + measured, checks_s_, checks_,
             TimeLeft(total_estimate_s_, done_estimate_s_, measured), detail);
}

void ProgressReporter::ReportRuns(const std::vector<Run>& runs) {
  ConsoleReporter::ReportRuns(runs);
  for (const Run& run : runs) progress_.Finished(run.run_name.str());
}

}  // namespace bpe::harness

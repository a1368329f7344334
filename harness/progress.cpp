#include "harness/progress.h"

#include <fmt/core.h>

#include <algorithm>
#include <condition_variable>
#include <stop_token>

namespace bpe::harness {

void Progress::Start(const Plan& plan) {
  plan_ = &plan;
  for (const auto& r : plan.runs) total_s_ += r.estimate_s;
  start_ = std::chrono::steady_clock::now();
  ticker_ = std::jthread([this](std::stop_token stop) {
    std::mutex mu;
    std::unique_lock lock(mu);
    std::condition_variable_any cv;
    while (true) {
      cv.wait_for(lock, stop, std::chrono::seconds(10), [] { return false; });
      if (stop.stop_requested()) return;
      Print("running");
    }
  });
}

void Progress::Finished(const std::string& run_name) {
  for (size_t i = 0; i < plan_->runs.size(); ++i) {  // our name, before Google Benchmark's suffixes
    const std::string& planned = plan_->runs[i].name;
    if (run_name != planned && run_name.rfind(planned + "/", 0) != 0) continue;
    bool first;
    {
      std::lock_guard lock(mu_);
      first = finished_.insert(i).second;
    }
    if (first) Print("done " + planned);
  }
}

void Progress::Print(const std::string& what) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const size_t current = current_;
  const std::string detail =
      what == "running" && current < plan_->runs.size() ? "running " + plan_->runs[current].name : what;
  std::lock_guard lock(mu_);
  fmt::print(stderr, "[{}/{} complete] elapsed {:.0f} s, about {:.0f} s left: {}\n", finished_.size(),
             plan_->runs.size(), elapsed, std::max(total_s_ - elapsed, 0.0), detail);
}

void ProgressReporter::ReportRuns(const std::vector<Run>& runs) {
  ConsoleReporter::ReportRuns(runs);
  for (const Run& run : runs) progress_.Finished(run.run_name.str());
}

}  // namespace bpe::harness

// RunParallel (algorithms/runtime/parallel.h): every task runs once, task 0 on the caller, exceptions
// reach the caller, and the pool survives what callers do to it (sleeping past the spin time,
// nesting, two callers at once, more tasks than cores). Signal: rounds between two tasks.
// TuneAllocator (memory.h): what it sets, and when it leaves malloc alone.
#include "algorithms/runtime/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <stdexcept>
#include <thread>
#include <vector>

#include "algorithms/runtime/memory.h"

namespace bpe {
namespace {

// Runs n tasks and checks each ran once, and task 0 on this thread.
void ExpectEachOnce(size_t n) {
  std::vector<std::atomic<int>> runs(n);
  std::thread::id first;
  RunParallel(n, [&](size_t i) {
    runs[i].fetch_add(1);
    if (i == 0) first = std::this_thread::get_id();
  });
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(runs[i].load(), 1) << "task " << i << " of " << n;
  EXPECT_EQ(first, std::this_thread::get_id());
}

TEST(RunParallel, RunsEveryTaskOnceAndTheFirstOnTheCaller) {
  RunParallel(0, [](size_t) { FAIL() << "no task to run"; });
  for (size_t n : {1, 2, 3, 8, 33}) ExpectEachOnce(n);  // 8 and 33: more than the cores here
}

TEST(RunParallel, ManyCallsInARowAndAfterTheWorkersSleep) {
  for (int call = 0; call < 2000; ++call) {
    std::atomic<uint64_t> sum = 0;
    RunParallel(2, [&](size_t i) { sum += i + 1; });
    ASSERT_EQ(sum.load(), 3u) << "call " << call;
    // Now and then wait past the spin time, so the next call wakes a sleeping worker.
    if (call % 500 == 0) std::this_thread::sleep_for(std::chrono::microseconds(3 * kSpinMicros));
  }
}

TEST(RunParallel, RethrowsTheLowestFailingTaskAfterAllFinished) {
  std::atomic<int> finished = 0;
  try {
    RunParallel(3, [&](size_t i) {
      if (i >= 1) throw std::runtime_error("task " + std::to_string(i));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      ++finished;
    });
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "task 1");
  }
  EXPECT_EQ(finished.load(), 1);
  ExpectEachOnce(2);  // the pool still works after a failed call
}

TEST(RunParallel, NestedAndConcurrentCallsComplete) {
  std::atomic<int> inner = 0;
  RunParallel(2, [&](size_t) { RunParallel(2, [&](size_t) { ++inner; }); });
  EXPECT_EQ(inner.load(), 4);

  std::atomic<int> total = 0;
  std::vector<std::jthread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int k = 0; k < 200; ++k) RunParallel(2, [&](size_t) { ++total; });
    });
  }
  callers.clear();  // joins
  EXPECT_EQ(total.load(), 4 * 200 * 2);
}

// Signal: lock-step rounds between two tasks (as `sharded` runs its merges), each seeing what the
// other wrote before publishing; and a waiter that slept past the spin time is woken by Publish
// (were it not, the test would hang until ctest's timeout).
TEST(Signal, RoundsInLockStepAndAWaiterAsleepIsWoken) {
  Signal round, done;
  uint64_t message = 0, seen_sum = 0;  // plain data, ordered by the signals (TSan checks)
  constexpr uint32_t kRounds = 20000;
  RunParallel(2, [&](size_t i) {
    if (i == 0) {
      for (uint32_t r = 1; r <= kRounds; ++r) {
        message = r;
        round.Publish(r);
        for (uint32_t now = done.Load(); now != r;) now = done.Await(now);
      }
      // Let the other task spin out and sleep, then wake it.
      std::this_thread::sleep_for(std::chrono::microseconds(5 * kSpinMicros));
      message = 0;
      round.Publish(kRounds + 1);
    } else {
      for (uint32_t r = 0;;) {
        r = round.Await(r);
        if (r > kRounds) return;
        seen_sum += message;
        done.Publish(r);
      }
    }
  });
  EXPECT_EQ(seen_sum, uint64_t{kRounds} * (kRounds + 1) / 2);
  EXPECT_EQ(round.Load(), kRounds + 1);
}

TEST(Allocator, TunedUnlessGlibcTunablesSetsMalloc) {
  // In a sanitizer build malloc is the sanitizer's. The release build's thresholds are also checked
  // by tests/peers_test.py, in the harness's results.
#if defined(BPEBENCH_SANITIZER_MALLOC)
  const std::string tuned = kSanitizerMalloc;
#else
  const std::string tuned = kTunedMalloc;
#endif
#if defined(__GLIBC__)
  const char* before = std::getenv("GLIBC_TUNABLES");
  const std::string saved = before ? before : "";
  setenv("GLIBC_TUNABLES", "glibc.malloc.check=0", 1);
  EXPECT_EQ(TuneAllocator(), "glibc malloc as GLIBC_TUNABLES sets it: glibc.malloc.check=0");
  setenv("GLIBC_TUNABLES", "glibc.pthread.rseq=0", 1);  // tunables, but none of malloc's
  EXPECT_EQ(TuneAllocator(), tuned);
  unsetenv("GLIBC_TUNABLES");
  EXPECT_EQ(TuneAllocator(), tuned);
  if (before) setenv("GLIBC_TUNABLES", saved.c_str(), 1);
#else
  EXPECT_NE(TuneAllocator().find("not glibc"), std::string::npos);
#endif
}

}  // namespace
}  // namespace bpe

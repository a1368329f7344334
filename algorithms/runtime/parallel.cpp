#include "algorithms/runtime/parallel.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace bpe {

namespace {

void Pause() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// Spins (with a pause instruction) for up to kSpinMicros until a no longer holds old; returns what
// it holds then (old if it did not change).
uint32_t Spin(const std::atomic<uint32_t>& a, uint32_t old) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::microseconds(kSpinMicros);
  for (uint32_t i = 1;; ++i) {
    const uint32_t now = a.load(std::memory_order_acquire);
    if (now != old || (i % 64 == 0 && Clock::now() > deadline)) return now;
    Pause();
  }
}

}  // namespace

uint32_t Signal::Await(uint32_t old) const {
  if (const uint32_t now = Spin(value_, old); now != old) return now;
  // Sleep. The sleeper count is raised before the futex compares the value, and Publish stores the
  // value before it reads the count (both sequentially consistent): either Publish sees a sleeper
  // and wakes it, or the futex sees the new value and does not sleep.
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  uint32_t now;
  while ((now = value_.load(std::memory_order_seq_cst)) == old) value_.wait(old, std::memory_order_seq_cst);
  sleepers_.fetch_sub(1, std::memory_order_relaxed);
  return now;
}

void Signal::Publish(uint32_t value) {
  value_.store(value, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) != 0) value_.notify_all();
}

namespace {

// Runs task(index) and keeps its exception, if any, for the caller.
void RunOne(const std::function<void(size_t)>& task, size_t index, std::exception_ptr& error) {
  try {
    task(index);
  } catch (...) {
    error = std::current_exception();
  }
}

void RethrowFirst(const std::vector<std::exception_ptr>& errors) {
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

// Plain threads for this call only: for more tasks than the pool has workers, or a busy pool.
void RunOnNewThreads(size_t n, const std::function<void(size_t)>& task) {
  std::vector<std::exception_ptr> errors(n);
  {
    std::vector<std::jthread> threads;
    for (size_t i = 1; i < n; ++i) threads.emplace_back([&, i] { RunOne(task, i, errors[i]); });
    RunOne(task, 0, errors[0]);
  }
  RethrowFirst(errors);
}

// The caller and each worker signal each other through Signals (parallel.h), as `sharded`'s rounds
// do: std::atomic::notify would make a system call whenever any thread sleeps on an address in the
// same slot of the library's table of waiters, not only when the worker or the caller sleeps.
class Pool {
 public:
  Pool() : capacity_(std::max(1u, std::thread::hardware_concurrency()) - 1) {}
  ~Pool() {
    for (auto& w : workers_) {
      w->thread.request_stop();
      w->go.value.Publish(w->go.value.Load() + 1);
    }
    // The jthreads join as workers_ is destroyed.
  }

  // Runs the call on the pool, or returns false (and runs nothing) if it needs more workers than
  // the machine has cores to spare or another call holds the pool.
  bool TryRun(size_t n, const std::function<void(size_t)>& task) {
    if (n - 1 > capacity_) return false;
    // A flag, not a mutex: a task on the calling thread may call RunParallel again, and a second
    // try_lock by the mutex's owner would be undefined.
    if (busy_.exchange(true, std::memory_order_acquire)) return false;
    try {
      while (workers_.size() < n - 1) Start();
    } catch (...) {  // no thread could be started (std::system_error): the caller gets the error
      busy_.store(false, std::memory_order_release);
      throw;
    }
    task_ = &task;
    errors_.assign(n, nullptr);
    for (size_t i = 1; i < n; ++i) {
      Worker& w = *workers_[i - 1];
      w.index = i;
      w.go.value.Publish(w.go.value.Load() + 1);
    }
    RunOne(task, 0, errors_[0]);
    for (size_t i = 1; i < n; ++i) {  // each worker's done catches up with its go
      const Worker& w = *workers_[i - 1];
      const uint32_t target = w.go.value.Load();
      for (uint32_t now = w.done.value.Load(); now != target;) now = w.done.value.Await(now);
    }
    task_ = nullptr;
    const std::vector<std::exception_ptr> errors = std::move(errors_);
    busy_.store(false, std::memory_order_release);
    RethrowFirst(errors);
    return true;
  }

 private:
  struct Worker {
    Padded<Signal> go;    // bumped by the caller once per task given to this worker, and to stop it
    Padded<Signal> done;  // set by the worker to the go value of the task it finished
    size_t index = 0;     // the task's index, written before go is bumped
    std::jthread thread;
  };

  // Adds a worker; if its thread cannot be started, throws and leaves workers_ as it was.
  void Start() {
    workers_.reserve(workers_.size() + 1);
    auto worker = std::make_unique<Worker>();
    Worker& w = *worker;
    w.thread = std::jthread([this, &w](std::stop_token stop) {
      for (uint32_t seen = 0;;) {
        seen = w.go.value.Await(seen);
        if (stop.stop_requested()) return;
        RunOne(*task_, w.index, errors_[w.index]);
        w.done.value.Publish(seen);
      }
    });
    workers_.push_back(std::move(worker));  // cannot throw: reserved
  }

  const size_t capacity_;
  std::atomic<bool> busy_{false};  // set for a whole call
  std::vector<std::unique_ptr<Worker>> workers_;
  const std::function<void(size_t)>* task_ = nullptr;
  std::vector<std::exception_ptr> errors_;
};

}  // namespace

void RunParallel(size_t n, const std::function<void(size_t)>& task) {
  if (n == 0) return;
  if (n == 1) {
    task(0);
    return;
  }
  static Pool pool;
  if (!pool.TryRun(n, task)) RunOnNewThreads(n, task);
}

}  // namespace bpe

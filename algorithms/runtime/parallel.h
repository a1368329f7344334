// Running n tasks at once on the process's worker threads (word counting, its sort, encoding).
//
// Why a pool and not a thread per call: on a virtual machine a core that was idle is slow to come
// back. Measured on the 2-vCPU VM: encoding gutenberg5's 312 KB
// held-out text on 2 threads started per call took 0.9-1.0x the 1-thread time, because the new
// thread ran on a core whose cache another tenant had used and started late; the same split on a
// worker that was still spinning from the last call took 1.5-1.8x. So the workers outlive the call
// and, after a task, spin (with a pause instruction) for kSpinMicros before they sleep on a futex,
// as OpenMP's runtimes do (KMP_BLOCKTIME, 200 ms by default); back-to-back calls find them awake.
// The cost: up to kSpinMicros of one core per worker after each call.
//
// The pool has at most hardware_concurrency() - 1 workers (the caller is the other thread). A call
// that needs more, or that finds the pool busy (another thread's call, or a task calling
// RunParallel itself), starts plain threads for that call instead: never spinning on an
// oversubscribed machine, never deadlocking.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace bpe {

inline constexpr int kSpinMicros = 2000;

// What tasks write while they run must not share a cache line with what another task writes: each
// write would take the line away from the other core (false sharing). A std::vector<T> per task
// side by side in an array has its end pointer, which every push_back writes, in the same line as
// the next one's: on gutenberg5 that made 2-thread encoding take as long as 1 thread. So per-task
// state goes in Padded<T>, two lines apart (the adjacent-line prefetcher moves lines in pairs).
inline constexpr size_t kFalseSharingBytes = 128;
template <typename T>
struct alignas(kFalseSharingBytes) Padded {
  T value{};
};

// Runs task(0) .. task(n - 1) at once: task(0) on the calling thread, the others on workers, and
// returns when all are done. If tasks throw, rethrows the exception of the lowest index that threw.
void RunParallel(size_t n, const std::function<void(size_t)>& task);

// Lock-step signalling between threads (the pool's hand-offs to its workers and back, `sharded`'s
// merge rounds within one RunParallel call): a counter that one thread sets and others wait on.
// Await spins (with a pause instruction) for kSpinMicros, then sleeps on the futex until Publish
// wakes it: a signal that comes within microseconds costs no system call, and a thread that waits
// long gives its core back. Publish makes a system call only when a thread sleeps on this signal
// (std::atomic::notify alone also makes one when any thread sleeps on an address that shares its
// slot in the library's table of waiters, such as an idle pool worker: a system call per merge).
class Signal {
 public:
  uint32_t Load() const { return value_.load(std::memory_order_acquire); }
  // Waits until the value is no longer `old` and returns it (acquire: what the publisher wrote
  // before Publish is seen).
  uint32_t Await(uint32_t old) const;
  void Publish(uint32_t value);

 private:
  std::atomic<uint32_t> value_{0};
  mutable std::atomic<uint32_t> sleepers_{0};
};

}  // namespace bpe

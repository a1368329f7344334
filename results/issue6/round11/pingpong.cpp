// Cache-line round trip between two threads (round 11 of issue 6). Not part of the build:
//   g++ -O2 -pthread results/issue6/round11/pingpong.cpp -o /tmp/pingpong && /tmp/pingpong
// One thread writes an odd value into a shared atomic and waits for the other to answer with the
// next even one, a million times; prints the mean round trip. On the 2-vCPU development VM: 390-430
// ns, so a line written on one vCPU and read on the other costs about 200 ns, more than a DRAM miss.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

alignas(64) std::atomic<int> ball{0};

int main() {
  constexpr int kRounds = 1000000;
  std::thread other([] {
    for (int i = 0; i < kRounds; ++i) {
      while (ball.load(std::memory_order_acquire) != 2 * i + 1) {
      }
      ball.store(2 * i + 2, std::memory_order_release);
    }
  });
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) {
    ball.store(2 * i + 1, std::memory_order_release);
    while (ball.load(std::memory_order_acquire) != 2 * i + 2) {
    }
  }
  const auto end = std::chrono::steady_clock::now();
  other.join();
  std::printf("round trip %.1f ns\n", std::chrono::duration<double, std::nano>(end - start).count() / kRounds);
}

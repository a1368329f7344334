// The counting build's allocator (linked into the `count` preset's harness only; see counting.h).
//
// glibc's malloc takes a different number of instructions, and returns different addresses, depending
// on everything the process allocated before: the lengths of paths, the digits of the progress
// display, which thread of a parallel count ran first. Measured without this file, one binary run
// twice in one folder gave different instruction counts for 139 of 227 benchmarks, and the cache
// simulation differed by up to 4%. So while a benchmark function runs (its setup, the iteration that
// warms the simulated caches and the counted one), allocations come from an arena at a fixed address
// that is emptied when the next benchmark function starts: the benchmark's memory and its addresses
// are the same in every run, whatever came before. Everything else goes to glibc. A benchmark's
// allocations must not outlive it (Google Benchmark copies its counters before the next one
// starts); tables built lazily on first use were built by the checks, which run every algorithm
// before the benchmarks, on glibc.
#include <dlfcn.h>
#include <malloc.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "harness/counting.h"

extern "C" {
void* __libc_malloc(size_t);
void __libc_free(void*);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
}

namespace {

// Reserved, not committed: only the pages a benchmark touches are memory.
constexpr uintptr_t kArenaBase = uintptr_t{0x100000000000};  // 16 TiB, far from glibc's heap and mappings
constexpr size_t kArenaBytes = size_t{64} << 30;
constexpr int kClasses = 48;    // block capacities 16 B .. 2^47 B, powers of two
constexpr int kNoReuse = 255;   // an over-aligned block: never reused
// Before each block: its capacity class and the size asked for (realloc and malloc_usable_size).
struct Header {
  uint64_t size;
  uint32_t cls;
  uint32_t pad;
};
static_assert(sizeof(Header) == 16);

char* arena = nullptr;
char* next = nullptr;
bool active = false;
void* free_lists[kClasses];  // per class, last freed first (as glibc's per-size caches)

bool InArena(const void* p) {
  const auto* c = static_cast<const char*>(p);
  return arena && c >= arena && c < arena + kArenaBytes;
}

Header* HeaderOf(void* p) { return static_cast<Header*>(p) - 1; }

[[noreturn]] void OutOfArena() {
  std::fputs("bpebench_harness: error: a counted benchmark allocated more than the counting arena's 64 GiB\n", stderr);
  std::abort();
}

void* Carve(size_t capacity, size_t align, uint64_t size, uint32_t cls) {
  const uintptr_t at = (reinterpret_cast<uintptr_t>(next) + sizeof(Header) + align - 1) & ~(uintptr_t{align} - 1);
  if (capacity > kArenaBytes || at + capacity > reinterpret_cast<uintptr_t>(arena) + kArenaBytes) OutOfArena();
  next = reinterpret_cast<char*>(at + capacity);
  auto* block = reinterpret_cast<void*>(at);
  *HeaderOf(block) = {size, cls, 0};
  return block;
}

// Blocks are powers of two from 16 bytes, reused last-freed-first within their class: the same
// requests in the same order give the same addresses, and memory is reused as glibc would reuse it
// (a bump allocator that never reuses made training's simulated misses 25% higher than glibc's).
void* Allocate(size_t n) {
  int cls = 4;
  while (cls < kClasses && (size_t{1} << cls) < n) ++cls;
  if (cls == kClasses) OutOfArena();
  if (void* p = free_lists[cls]) {
    free_lists[cls] = *static_cast<void**>(p);
    HeaderOf(p)->size = n;
    return p;
  }
  return Carve(size_t{1} << cls, 16, n, static_cast<uint32_t>(cls));
}

void Release(void* p) {
  Header* h = HeaderOf(p);
  if (h->cls == kNoReuse) return;
  *static_cast<void**>(p) = free_lists[h->cls];
  free_lists[h->cls] = p;
}

}  // namespace

namespace bpe::harness {

void ArenaBegin() {
  if (!arena) {
    void* p = ::mmap(reinterpret_cast<void*>(kArenaBase), kArenaBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED || p != reinterpret_cast<void*>(kArenaBase)) {
      std::fprintf(stderr, "bpebench_harness: error: cannot map the counting arena at %p: %s\n",
                   reinterpret_cast<void*>(kArenaBase), std::strerror(errno));
      std::abort();
    }
    arena = static_cast<char*>(p);
  }
  next = arena;
  std::memset(free_lists, 0, sizeof free_lists);
  active = true;
}

void ArenaEnd() { active = false; }


}  // namespace bpe::harness

extern "C" {

void* malloc(size_t n) { return active ? Allocate(n) : __libc_malloc(n); }

// A block of the arena freed after its benchmark (the arena was emptied since, or is about to be)
// is dropped; one freed while its benchmark runs is reused.
void free(void* p) {
  if (!InArena(p)) {
    __libc_free(p);
  } else if (active) {
    Release(p);
  }
}

void* calloc(size_t n, size_t m) {
  if (!active) return __libc_calloc(n, m);
  if (m != 0 && n > SIZE_MAX / m) {
    errno = ENOMEM;
    return nullptr;
  }
  void* p = Allocate(n * m);
  std::memset(p, 0, n * m);
  return p;
}

void* realloc(void* p, size_t n) {
  if (!InArena(p) && !active) return __libc_realloc(p, n);
  if (InArena(p) && active && HeaderOf(p)->cls != kNoReuse && n <= (size_t{1} << HeaderOf(p)->cls)) {
    HeaderOf(p)->size = n;  // fits its block
    return p;
  }
  void* q = active ? Allocate(n) : __libc_malloc(n);
  if (p && q) {
    const size_t old = malloc_usable_size(p);
    std::memcpy(q, p, old < n ? old : n);
    free(p);
  }
  return q;
}

void* memalign(size_t align, size_t n) {
  if (!active) return __libc_memalign(align, n);
  return align <= 16 ? Allocate(n) : Carve(n, align, n, kNoReuse);
}

void* aligned_alloc(size_t align, size_t n) { return memalign(align, n); }

void* valloc(size_t n) { return memalign(4096, n); }

void* pvalloc(size_t n) { return memalign(4096, (n + 4095) & ~size_t{4095}); }

size_t malloc_usable_size(void* p) {
  if (InArena(p)) return HeaderOf(p)->size;
  using Fn = size_t (*)(void*);
  static const Fn glibc = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, "malloc_usable_size"));
  return p && glibc ? glibc(p) : 0;
}

int posix_memalign(void** out, size_t align, size_t n) {
  void* p = memalign(align, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

}  // extern "C"

// Process-wide allocator settings for the programs (the CLI and the harness call this first thing;
// the library itself never changes them).
//
// Why: the position-based trainers (`linked`, `sharded`) grow and free many occurrence lists of
// hundreds of kilobytes to megabytes as merges go. With glibc's defaults, a block above the mmap
// threshold (128 KiB, raised as such blocks are freed) is its own mapping, unmapped when freed, and
// free memory above 128 KiB at the top of the heap goes back to the kernel: the next list faults
// its pages in again, a page fault per 4 KiB. On the 2-vCPU VM, `linked` on gutenberg93 at vocab
// 30000: the CLI took 1.00-1.09 s with the defaults and 0.76-0.78 s with these settings, at the
// same peak RSS (78 MB); training 15 times in one process (as the harness does), 224,000 page
// faults against 48,000 and a median of 385 ms against 212 ms.
#pragma once

#include <cstddef>
#include <string>

namespace bpe {

inline constexpr size_t kMmapThresholdBytes = size_t{64} << 20;   // blocks below come from the heap
inline constexpr size_t kTrimThresholdBytes = size_t{128} << 20;  // free memory kept at the heap's top

// Under AddressSanitizer or ThreadSanitizer, malloc is the sanitizer's, which has no thresholds.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BPEBENCH_SANITIZER_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define BPEBENCH_SANITIZER_MALLOC 1
#endif
#endif

// What TuneAllocator returns when it set the thresholds, and in a sanitizer build.
inline constexpr const char* kTunedMalloc = "glibc malloc, mmap threshold 64 MiB, trim threshold 128 MiB";
inline constexpr const char* kSanitizerMalloc = "a sanitizer's malloc (no thresholds to set)";
static_assert(kMmapThresholdBytes == size_t{64} << 20 && kTrimThresholdBytes == size_t{128} << 20,
              "kTunedMalloc names the thresholds");

// Sets glibc malloc's mmap and trim thresholds to the values above, unless GLIBC_TUNABLES already
// sets malloc's own (the user's choice wins), the build is a sanitizer's, or the C library is not
// glibc. Returns a line that says what holds, for results and logs.
std::string TuneAllocator();

// The GLIBC_TUNABLES that ReexecWithHugePages sets: the thresholds above, and transparent huge pages
// for malloc's memory (glibc 2.35+: madvise(MADV_HUGEPAGE) on the heap and on mapped blocks).
inline constexpr const char* kHugePageTunables =
    "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=134217728";

// For the commands that build tables of gigabytes (train, count): restarts the program (execv of
// /proc/self/exe with the same arguments) with GLIBC_TUNABLES set to kHugePageTunables, since glibc
// reads its tunables only at start. Does nothing, and returns, when GLIBC_TUNABLES already sets
// malloc's own (the user's choice, or the restarted process), in a sanitizer's build, off glibc, or
// when the restart fails. Why: on the 2-vCPU VM a page fault costs about 5 us, and training on
// 300 MB of web-like text touched 2.2 GB in 4 KiB pages; with 2 MiB pages it took 15-19 s instead
// of 25-26 s (the trainer's first tables: 0.6-0.8 s instead of 2.6-3.3), counting 8-10 s instead
// of 12-13 (2 threads, alternated runs). Call first thing in main, before threads or handlers.
void ReexecWithHugePages(char** argv);

}  // namespace bpe

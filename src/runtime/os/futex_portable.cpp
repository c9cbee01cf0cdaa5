// The portable futex (runtime/os/futex.hpp): what macOS and the BSDs run, and Linux with
// COLOOP_PORTABLE_FALLBACKS=ON. A fixed table of buckets, each a mutex and a condition variable;
// a word's bucket comes from its address, so unrelated words may share one, and a wake notifies
// every sleeper of the bucket (each re-checks its own word and, if unchanged, sleeps again).
//
// No lost wake-up: a sleeper checks the word and starts waiting under its bucket's mutex; a
// waker changes the word before futex_wake_one, which takes that mutex before it notifies. So
// either the sleeper's check comes after the change and sees it, or the sleeper already waits
// when the notify comes. The table is never freed: a worker may still wake a word while static
// destructors run.

#include <condition_variable>
#include <cstddef>
#include <mutex>

#include "runtime/os/futex.hpp"

namespace coloop::detail::os {
namespace {

struct alignas(64) bucket {  // a cache line each, so that two buckets never share one
  std::mutex mutex;
  std::condition_variable cv;
  std::size_t sleepers = 0;  // guarded by mutex: a wake that finds none skips the notify
};

constexpr unsigned bucket_bits = 6;

bucket& bucket_of(const void* address) noexcept {
  static bucket* const table = new bucket[std::size_t{1} << bucket_bits];
  // Fibonacci hashing: parkers' words sit a fixed stride apart, which a plain modulo would
  // crowd into a few buckets.
  const auto key = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(address));
  return table[(key * 0x9E3779B97F4A7C15ull) >> (64 - bucket_bits)];
}

}  // namespace

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
  bucket& b = bucket_of(&word);
  std::unique_lock lock(b.mutex);
  // relaxed: the bucket's mutex orders this load after a waker's change (see the top); the
  // caller's own acquire on the word, after we return, orders the rest.
  if (word.load(std::memory_order_relaxed) != expected) return;
  ++b.sleepers;
  b.cv.wait(lock);
  --b.sleepers;
}

void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept {
  bucket& b = bucket_of(&word);  // the address only: `word` may be gone already
  {
    std::lock_guard lock(b.mutex);
    if (b.sleepers == 0) return;
  }
  b.cv.notify_all();
}

void futex_wake_one(std::atomic<std::uint32_t>& word) noexcept {
  // All of them: the bucket's other sleepers may wait on other words, and the condition
  // variable's notify_one could pick one of those.
  futex_wake_all(word);
}

}  // namespace coloop::detail::os

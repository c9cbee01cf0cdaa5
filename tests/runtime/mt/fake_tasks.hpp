#pragma once
// Test helpers for the mt queues: tasks are fake coroutine handles (never resumed) pointing at
// per-task counters, so a consumer records "seen" by incrementing the counter behind a handle;
// and the scale-down factor for sanitizer builds.

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <memory>

namespace coloop::test {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr std::size_t sanitizer_slowdown = 4;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
inline constexpr std::size_t sanitizer_slowdown = 4;
#else
inline constexpr std::size_t sanitizer_slowdown = 1;
#endif
#else
inline constexpr std::size_t sanitizer_slowdown = 1;
#endif

/// n distinct fake tasks; handle(i) <-> index_of(h); seen(h) counts consumptions thread-safely.
class fake_tasks {
 public:
  explicit fake_tasks(std::size_t n) : n_(n), counts_(std::make_unique<std::atomic<int>[]>(n)) {
    for (std::size_t i = 0; i < n; ++i) counts_[i].store(0, std::memory_order_relaxed);
  }
  std::size_t size() const { return n_; }
  std::coroutine_handle<> handle(std::size_t i) const {
    return std::coroutine_handle<>::from_address(&counts_[i]);
  }
  std::size_t index_of(std::coroutine_handle<> h) const {
    return static_cast<std::size_t>(static_cast<std::atomic<int>*>(h.address()) - &counts_[0]);
  }
  /// Records one consumption of h (must be one of ours).
  void seen(std::coroutine_handle<> h) const {
    static_cast<std::atomic<int>*>(h.address())->fetch_add(1, std::memory_order_relaxed);
  }
  int count(std::size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  /// Index of the first task not seen exactly once, or size() if all were.
  std::size_t first_not_once() const {
    for (std::size_t i = 0; i < n_; ++i) {
      if (count(i) != 1) return i;
    }
    return n_;
  }

 private:
  std::size_t n_;
  std::unique_ptr<std::atomic<int>[]> counts_;
};

}  // namespace coloop::test

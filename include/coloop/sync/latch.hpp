#pragma once
// latch: a one-shot countdown tasks can wait for (std::latch, for coroutines).

#include <atomic>
#include <cstddef>

#include <coloop/detail/wait_list.hpp>

namespace coloop {

/// A counter set once; wait() returns when count_down() has brought it to zero. Not reusable
/// (barrier is). Thread safety: every member may be called from any thread (tasks on any
/// worker, plain threads); a woken task resumes on its own loop or runtime. The latch must
/// outlive its waiters.
class latch {
 public:
  /// Throws std::invalid_argument if `count` is negative.
  explicit latch(std::ptrdiff_t count);
  latch(const latch&) = delete;
  latch& operator=(const latch&) = delete;

  /// Subtracts `k`; reaching zero wakes every waiter. Throws std::invalid_argument if `k` is
  /// negative and std::logic_error (the count unchanged) if `k` exceeds the count left.
  void count_down(std::ptrdiff_t k = 1);
  /// What is left to count down (a snapshot).
  std::ptrdiff_t count() const noexcept { return count_.load(std::memory_order_acquire); }
  /// Whether the count has reached zero.
  bool try_wait() const noexcept { return count() == 0; }
  /// `co_await l.wait()`: returns once the count is zero. Cancellable: a cancelled wait throws
  /// cancelled_error and leaves the count as it was.
  detail::wait_list::awaiter wait() noexcept { return waiters_.wait_until(&zero_fn, this); }

 private:
  static bool zero_fn(const void* self) noexcept;
  std::atomic<std::ptrdiff_t> count_;
  detail::wait_list waiters_;
};

}  // namespace coloop

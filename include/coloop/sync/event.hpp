#pragma once
// event: a flag tasks can wait for (asyncio.Event).

#include <atomic>

#include <coloop/detail/wait_list.hpp>

namespace coloop {

/// A flag that starts clear; set() wakes every task waiting for it. Thread safety: every member
/// may be called from any thread (tasks on any worker, plain threads); a woken task resumes on
/// its own loop or runtime. The event must outlive its waiters.
class event {
 public:
  event() noexcept = default;
  event(const event&) = delete;
  event& operator=(const event&) = delete;

  /// Sets the flag and wakes every waiter (they resume later, never inside set()). Any thread.
  void set() noexcept;
  /// Clears the flag; waiters already woken by set() still return. Any thread.
  void clear() noexcept;
  /// Whether the flag is set. Any thread.
  bool is_set() const noexcept { return set_.load(std::memory_order_acquire); }  // pairs with set()
  /// `co_await e.wait()`: returns at once if the flag is set, else when set() is next called.
  /// Cancellable: a cancelled wait throws cancelled_error and changes nothing.
  detail::wait_list::awaiter wait() noexcept { return waiters_.wait_until(&is_set_fn, this); }

 private:
  static bool is_set_fn(const void* self) noexcept;
  std::atomic<bool> set_{false};
  detail::wait_list waiters_;
};

}  // namespace coloop

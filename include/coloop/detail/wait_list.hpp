#pragma once
// layer: sync
// wait_list: tasks parked until a condition changes (drain, wait_closed, serve_forever, event,
// latch, broadcast, watch). In detail/ because the sync layer's templates embed it. It
// needs only core: the abstract scheduler it posts waiters to and cancellation. Intrusive: a
// waiting awaiter lives in its coroutine frame, so waiting allocates nothing. On the runtime,
// waiters and notifiers may be on different workers: a mutex guards the list, and nothing is
// resumed or disarmed while it is held.

#include <coloop/detail/handoff.hpp>
#include <coroutine>
#include <mutex>

namespace coloop::detail {

/// On the hand-off machinery (detail/handoff.hpp), which withdraws a cancelled or destroyed
/// waiter and wakes the notified ones after the lock is released; a wait_list grants nothing.
class wait_list final : private handoff_owner {
 public:
  /// Suspends until notify_all() unless done(arg) holds. Cancellable: a cancelled wait throws
  /// cancelled_error.
  class [[nodiscard]] awaiter : private handoff_waiter {
   public:
    awaiter(wait_list& list, bool (*done)(const void*), const void* arg) noexcept
        : handoff_waiter(list), list_(&list), done_(done), arg_(arg) {}
    awaiter(awaiter&& other) noexcept : awaiter(*other.list_, other.done_, other.arg_) {}
    awaiter& operator=(awaiter&&) = delete;

    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> waiter) noexcept {
      return enter(waiter, cancel_state_of(waiter));
    }
    void await_resume() { check_resumed(); }

   private:
    bool enter(std::coroutine_handle<> waiter, cancel_state* cancel) noexcept;

    wait_list* list_;
    bool (*done_)(const void*);
    const void* arg_;
  };

  wait_list() noexcept = default;
  ~wait_list() override { notify_all(); }

  /// Suspends until notify_all(), unless `done(arg)` is already true. The check runs under the
  /// list's lock, so a notifier that makes it true and then calls notify_all() is never missed.
  awaiter wait_until(bool (*done)(const void*), const void* arg) noexcept {
    return awaiter(*this, done, arg);
  }
  /// Posts every waiter to its scheduler (none runs inline).
  void notify_all() noexcept;
  bool empty() const noexcept {
    std::lock_guard lock(lock_);
    return waiters_.empty();
  }

 private:
  void abandoned(handoff_waiter&, wake_batch&) noexcept override {}
  handoff_list waiters_;
};

}  // namespace coloop::detail

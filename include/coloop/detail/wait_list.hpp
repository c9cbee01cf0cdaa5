#pragma once
// layer: sync
// wait_list: tasks parked until a condition changes (drain, wait_closed, serve_forever, event,
// latch, broadcast, watch). In detail/ because the sync layer's templates embed it. It
// needs only core: the abstract scheduler it posts waiters to and cancellation. Intrusive: a
// waiting awaiter lives in its coroutine frame, so waiting allocates nothing. On the runtime,
// waiters and notifiers may be on different workers: a mutex guards the list, and nothing is
// resumed or disarmed while it is held.

#include <coloop/core/cancellation.hpp>
#include <coloop/detail/intrusive_list.hpp>
#include <coloop/detail/promise_base.hpp>
#include <coloop/detail/scheduler.hpp>
#include <coroutine>
#include <mutex>

namespace coloop::detail {

class wait_list {
 public:
  /// Suspends until notify_all() unless done(arg) holds. Cancellable: a cancelled wait throws
  /// cancelled_error.
  class [[nodiscard]] awaiter : private cancel_slot {
   public:
    awaiter(wait_list& list, bool (*done)(const void*), const void* arg) noexcept
        : cancel_slot{&on_cancel}, list_(&list), done_(done), arg_(arg) {}
    awaiter(awaiter&& other) noexcept : awaiter(*other.list_, other.done_, other.arg_) {}
    awaiter& operator=(awaiter&&) = delete;
    ~awaiter() { leave(); }

    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> waiter) noexcept {
      return enter(waiter, cancel_state_of(waiter));
    }
    void await_resume() const {
      if (cancelled_) throw_cancelled();
    }

   private:
    friend class wait_list;
    friend class intrusive_list<awaiter>;
    bool enter(std::coroutine_handle<> waiter, cancel_state* cancel) noexcept;
    void leave() noexcept;  // unlinks without resuming (frame destroyed while waiting)
    static cancel_outcome on_cancel(cancel_slot* self) noexcept;

    wait_list* list_;
    bool (*done_)(const void*);
    const void* arg_;
    awaiter* prev_ = nullptr;
    awaiter* next_ = nullptr;
    std::coroutine_handle<> waiter_;
    scheduler* sched_ = nullptr;
    cancel_state* cancel_ = nullptr;
    bool queued_ = false;
    bool cancelled_ = false;
  };

  wait_list() noexcept = default;
  wait_list(const wait_list&) = delete;
  wait_list& operator=(const wait_list&) = delete;
  ~wait_list() { notify_all(); }

  /// Suspends until notify_all(), unless `done(arg)` is already true. The check runs under the
  /// list's lock, so a notifier that makes it true and then calls notify_all() is never missed.
  awaiter wait_until(bool (*done)(const void*), const void* arg) noexcept {
    return awaiter(*this, done, arg);
  }
  /// Posts every waiter to its scheduler (none runs inline).
  void notify_all() noexcept;
  bool empty() const noexcept {
    std::lock_guard lock(mutex_);
    return waiters_.empty();
  }

 private:
  void unlink(awaiter& a) noexcept {
    waiters_.remove(a);
    a.queued_ = false;
  }
  mutable std::mutex mutex_;
  intrusive_list<awaiter> waiters_;
};

}  // namespace coloop::detail

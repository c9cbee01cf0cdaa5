#pragma once
// condition: an asyncio.Condition bound to a coloop::mutex.

#include <coloop/core/task.hpp>
#include <coloop/detail/handoff.hpp>
#include <coloop/sync/mutex.hpp>
#include <coroutine>

namespace coloop {

/// A condition variable for tasks, bound to one mutex. Thread-safe; notify_one/notify_all may be
/// called with or without the mutex held, from any task or thread. Destroy it only when no task
/// waits on it.
class condition final : private detail::handoff_owner {
 public:
  /// Binds it to `m` for its lifetime.
  explicit condition(coloop::mutex& m) noexcept : m_(&m) {}

  /// Unlocks `g`, waits for a notification, locks `g` again (FIFO among the mutex's waiters) and
  /// returns. std::logic_error if `g` does not hold this condition's mutex. Cancellable: a
  /// cancelled wait takes the lock again before it throws cancelled_error; a cancel after the
  /// notification stays pending for the task's next await. A waiter whose frame is destroyed
  /// after it was notified passes the notification to the next waiter.
  task<void> wait(coloop::mutex::guard& g);
  /// Waits until pred() holds, checking it with the lock held (before the first wait, too).
  /// Pass a named callable (g++ 12 mishandles a lambda temporary in a co_await operand).
  template <class Pred>
  task<void> wait(coloop::mutex::guard& g, Pred pred) {
    check(g);
    while (!pred()) co_await wait(g);
  }
  /// Wakes the longest-waiting task, if any.
  void notify_one() noexcept;
  /// Wakes every waiting task.
  void notify_all() noexcept;
  /// The mutex it is bound to.
  coloop::mutex& mutex() const noexcept { return *m_; }

 private:
  // Queued on the condition until notified, then on the mutex (take_notified) until it is handed
  // the lock; it resumes owning the lock unless it was cancelled.
  class [[nodiscard]] notified_awaiter : private detail::handoff_waiter {
   public:
    notified_awaiter(condition& c, coloop::mutex::guard& g) noexcept
        : handoff_waiter(c), c_(&c), g_(&g) {}
    ~notified_awaiter() {
      // A frame destroyed after its notification passes it on (the lock, if it was handed
      // over, goes on through the mutex's abandoned()).
      const detail::handoff_state s = state();
      if (s != detail::handoff_state::queued && s != detail::handoff_state::granted) return;
      const detail::handoff_state found = leave();
      const bool unused =
          found == detail::handoff_state::queued || found == detail::handoff_state::granted;
      if (unused && notified_) c_->notify_one();
    }
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
      return c_->suspend(*this, h, detail::cancel_state_of(h));
    }
    /// True if the wait was withdrawn by a cancel; false: notified, and the lock is ours.
    bool await_resume() noexcept {
      if (state() == detail::handoff_state::cancelled) return true;
      set_state(detail::handoff_state::taken);
      return false;
    }

   private:
    friend class condition;
    condition* c_;
    coloop::mutex::guard* g_;
    bool notified_ = false;  // set under the condition's lock, read once the wait has ended
  };

  void check(const coloop::mutex::guard& g) const;
  bool suspend(notified_awaiter& a, std::coroutine_handle<> h, detail::cancel_state* c) noexcept;
  void abandoned(detail::handoff_waiter& w, detail::wake_batch& woken) noexcept override;
  /// Under lock_: moves the head waiter over to the mutex.
  void notify_head(detail::wake_batch& woken) noexcept;

  coloop::mutex* m_;
  detail::handoff_list waiters_;
};

}  // namespace coloop

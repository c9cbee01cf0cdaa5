// wait_list: an intrusive FIFO of suspended awaiters, woken all at once.
//
// Invariants: as the hand-off list's (handoff.cpp): an awaiter is linked exactly while queued;
// waking or cancelling unlinks it under the lock, so a cancel either withdraws the wait
// (cancelled_error) or finds it already woken (the request stays pending for the task's next
// await): never both.

#include <coloop/detail/wait_list.hpp>

namespace coloop::detail {

bool wait_list::awaiter::enter(std::coroutine_handle<> waiter, cancel_state* cancel) noexcept {
  std::lock_guard lock(list_->lock_);
  if (done_(arg_)) return false;
  return park(list_->waiters_, waiter, cancel);  // false: a cancel was pending, do not wait
}

void wait_list::notify_all() noexcept {
  wake_batch woken;  // in FIFO order, resumed after the lock is released
  std::lock_guard lock(lock_);
  while (handoff_waiter* w = waiters_.pop_front()) woken.add(*w);
}

}  // namespace coloop::detail

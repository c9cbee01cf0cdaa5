// wait_list: an intrusive FIFO of suspended awaiters, woken all at once.
//
// Invariants: an awaiter is linked exactly while queued_; its cancel slot is armed exactly then
// (when it has a cancel_state). Waking or cancelling unlinks and disarms in one step, so a cancel
// either withdraws the wait (cancelled_error) or finds it already woken (the request stays
// pending for the task's next await): never both.

#include <coloop/detail/wait_list.hpp>

namespace coloop::detail {

bool wait_list::awaiter::enter(std::coroutine_handle<> waiter, cancel_state* cancel) noexcept {
  cancelled_ = false;
  waiter_ = waiter;
  sched_ = current_scheduler();
  std::lock_guard lock(list_->mutex_);
  if (done_(arg_)) return false;
  // Armed under the lock: a canceller takes the slot, then the lock, and finds us linked.
  if (cancel != nullptr && !cancel->arm(this)) {
    cancelled_ = true;  // a cancel was pending: do not wait
    return false;
  }
  cancel_ = cancel;
  list_->waiters_.push_back(*this);
  queued_ = true;
  return true;
}

void wait_list::awaiter::leave() noexcept {
  {
    std::lock_guard lock(list_->mutex_);
    if (!queued_) return;
    list_->unlink(*this);
  }
  if (cancel_ != nullptr) cancel_->disarm();
}

cancel_outcome wait_list::awaiter::on_cancel(cancel_slot* self) noexcept {
  auto* a = static_cast<awaiter*>(self);
  std::lock_guard lock(a->list_->mutex_);
  if (!a->queued_) return cancel_outcome::completed();
  a->list_->unlink(*a);  // the slot was taken by cancel_state::request already
  a->cancelled_ = true;
  return {a->waiter_, a->sched_};
}

void wait_list::notify_all() noexcept {
  awaiter* woken = nullptr;  // in FIFO order through next_, resumed after the lock is released
  {
    std::lock_guard lock(mutex_);
    woken = waiters_.take_all();
    for (awaiter* a = woken; a != nullptr; a = a->next_) a->queued_ = false;
  }
  while (awaiter* a = woken) {
    woken = a->next_;
    if (a->cancel_ != nullptr) a->cancel_->disarm();
    post_from_any_thread(a->sched_, a->waiter_);  // the frame holding `a` may run from here on
  }
}

}  // namespace coloop::detail

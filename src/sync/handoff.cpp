// handoff: the FIFO waiter list of mutex, semaphore, condition and the queues.
//
// Invariants: a waiter is linked exactly while queued; its cancel slot is armed exactly then (when
// it has a cancel_state). Granting, closing and cancelling happen under the owner's lock and
// unlink in the same step, so a cancel either withdraws the wait (state unchanged, the waiter
// throws cancelled_error) or finds it already granted (the request stays pending for the task's
// next await): never both. A granted waiter that never resumes passes its grant on from its
// destructor. Waking (disarm, then post) happens after the lock is released.

#include <coloop/detail/handoff.hpp>
#include <system_error>

namespace coloop::detail {

void handoff_waiter::check_resumed() {
  const handoff_state s = state();
  if (s == handoff_state::cancelled) throw_cancelled();
  if (s == handoff_state::closed) throw std::system_error(make_error_code(errc::closed));
  set_state(handoff_state::taken);
}

bool handoff_waiter::park(handoff_list& list, std::coroutine_handle<> h,
                          cancel_state* cancel) noexcept {
  waiter_ = h;
  sched_ = current_scheduler();
  // Armed under the lock: a canceller takes the slot, then the lock, and finds us linked.
  if (cancel != nullptr && !cancel->arm(this)) {
    set_state(handoff_state::cancelled);  // a cancel was pending: do not wait
    return false;
  }
  cancel_ = cancel;
  list.push_back(*this);
  set_state(handoff_state::queued);
  return true;
}

bool handoff_waiter::requeue(std::coroutine_handle<> h) noexcept {
  scheduler* s = current_scheduler();
  if (s == nullptr) return false;     // no scheduler to give way to: carry on
  set_state(handoff_state::granted);  // only this thread touches it until it resumes
  s->post_yield(h);
  return true;
}

handoff_owner* handoff_waiter::lock_owner() noexcept {
  // relaxed: a stale owner is caught by the re-check under its lock, which orders the change.
  handoff_owner* o = owner_.load(std::memory_order_relaxed);
  for (;;) {
    o->lock_.lock();
    handoff_owner* now = owner_.load(std::memory_order_relaxed);
    if (now == o) return o;
    o->lock_.unlock();
    o = now;
  }
}

handoff_state handoff_waiter::leave() noexcept {
  handoff_state found;
  {
    wake_batch woken;
    handoff_owner* o = lock_owner();
    std::lock_guard lock(o->lock_, std::adopt_lock);
    found = state();
    if (found == handoff_state::queued) {
      list_->remove(*this);
      set_state(handoff_state::cancelled);
      o->withdrawn(*this, woken);
    } else if (found == handoff_state::granted) {
      set_state(handoff_state::taken);
      o->abandoned(*this, woken);
    }
  }
  if (found == handoff_state::queued && cancel_ != nullptr) cancel_->disarm();
  return found;
}

cancel_outcome handoff_waiter::on_cancel(cancel_slot* self) noexcept {
  auto* w = static_cast<handoff_waiter*>(self);
  wake_batch woken;  // others the withdrawal unblocks: woken after the lock is released
  handoff_owner* o = w->lock_owner();
  std::lock_guard lock(o->lock_, std::adopt_lock);
  if (w->state() != handoff_state::queued) return cancel_outcome::completed();
  w->list_->remove(*w);  // the slot was taken by cancel_state::request already
  w->set_state(handoff_state::cancelled);
  o->withdrawn(*w, woken);
  return {w->waiter_, w->sched_};
}

void wake_batch::add(handoff_waiter& w, handoff_state s) noexcept {
  // release: the waiter's destructor reads the state without the lock once it has resumed.
  w.state_.store(s, std::memory_order_release);
  w.next_ = nullptr;
  *tail_ = &w;
  tail_ = &w.next_;
}

void wake_batch::wake() noexcept {
  while (handoff_waiter* w = head_) {
    head_ = w->next_;
    w->next_ = nullptr;
    scheduler* sched = w->sched_;
    const std::coroutine_handle<> h = w->waiter_;
    if (w->cancel_ != nullptr) w->cancel_->disarm();
    post_from_any_thread(sched, h);  // the frame holding `w` may run from here on
  }
  tail_ = &head_;
}

void handoff_owner::withdrawn(handoff_waiter&, wake_batch&) noexcept {}

}  // namespace coloop::detail

// condition: a waiter queues on the condition's list and releases the mutex under the
// condition's lock, so a notifier that takes the mutex after the release always finds it queued
// (no lost wake-up). A notification moves the waiter straight onto the mutex's FIFO (wait
// morphing), so notified waiters re-take the mutex in the order they were notified and are
// resumed once, already owning it. Lock order: condition::lock_, then mutex::lock_; the mutex
// never takes a condition's lock.
//
// Cancellation: withdrawn before its notification, a waiter re-takes the mutex and throws. Once
// notified it is on the mutex's queue with its cancel slot still armed: a cancel there withdraws
// it, and it passes the notification on to the next waiter before it re-takes the mutex and
// throws (CPython gh-112202). A cancel after it was handed the lock stays pending.

#include <coloop/sync/condition.hpp>
#include <stdexcept>

namespace coloop {

void condition::check(const coloop::mutex::guard& g) const {
  if (g.m_ != m_) {
    throw std::logic_error(g.m_ == nullptr
                               ? "condition::wait: the guard does not hold the mutex"
                               : "condition::wait: the guard holds another mutex than the "
                                 "condition's");
  }
}

task<void> condition::wait(coloop::mutex::guard& g) {
  check(g);
  bool cancelled = false;
  bool notified = false;
  {
    notified_awaiter waiter(*this, g);
    cancelled = co_await waiter;
    notified = waiter.notified_;
  }
  if (!cancelled) {
    g.m_ = m_;  // handed over with the notification
    co_return;
  }
  if (g.owns_lock()) detail::throw_cancelled();  // the cancel was pending: it never let go
  if (notified) notify_one();                    // not used: the next waiter gets it
  g = co_await m_->relock();                     // not cancellable: always returns locked
  detail::throw_cancelled();
}

bool condition::suspend(notified_awaiter& a, std::coroutine_handle<> h,
                        detail::cancel_state* c) noexcept {
  detail::wake_batch woken;  // the mutex's next owner, woken after both locks are released
  std::lock_guard lock(lock_);
  if (!a.park(waiters_, h, c)) return false;  // cancel pending: keep the lock and throw
  coloop::mutex::guard& g = *a.g_;
  g.m_ = nullptr;
  m_->unlock_into(woken);
  return true;
}

void condition::notify_head(detail::wake_batch& woken) noexcept {
  detail::handoff_waiter* w = waiters_.pop_front();
  static_cast<notified_awaiter&>(*w).notified_ = true;
  m_->take_notified(*w, woken);
}

void condition::notify_one() noexcept {
  detail::wake_batch woken;
  std::lock_guard lock(lock_);
  if (!waiters_.empty()) notify_head(woken);
}

void condition::notify_all() noexcept {
  detail::wake_batch woken;
  std::lock_guard lock(lock_);
  while (!waiters_.empty()) notify_head(woken);
}

void condition::abandoned(detail::handoff_waiter&, detail::wake_batch&) noexcept {
  // Never called: a condition grants nothing itself, a notified waiter belongs to the mutex.
}

}  // namespace coloop

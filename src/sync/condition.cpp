// condition: waiters queue on the condition's own list, then re-take the mutex through the
// mutex's FIFO. The waiter links itself and releases the mutex under the condition's lock, so a
// notifier that takes the mutex after the release always finds it queued (no lost wake-up). Lock
// order: condition::lock_, then mutex::lock_; the mutex never takes a condition's lock. Re-locking
// after the wait is not cancellable, so a cancelled wait always returns with the lock held.

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
  {
    notified_awaiter notified(*this, g);
    cancelled = co_await notified;
  }
  if (!g.owns_lock()) g = co_await m_->relock();
  if (cancelled) detail::throw_cancelled();
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

void condition::notify_one() noexcept {
  detail::wake_batch woken;
  std::lock_guard lock(lock_);
  if (detail::handoff_waiter* w = waiters_.pop_front()) woken.add(*w);
}

void condition::notify_all() noexcept {
  detail::wake_batch woken;
  std::lock_guard lock(lock_);
  while (detail::handoff_waiter* w = waiters_.pop_front()) woken.add(*w);
}

void condition::abandoned(detail::handoff_waiter&, detail::wake_batch& woken) noexcept {
  if (detail::handoff_waiter* w = waiters_.pop_front()) woken.add(*w);
}

}  // namespace coloop

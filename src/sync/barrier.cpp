// barrier: a FIFO of this cycle's waiters, on the hand-off machinery (handoff.cpp) that
// withdraws a cancelled or destroyed waiter and wakes the released ones after the lock.
//
// Invariants (under lock_): waiting_ is the number of queued awaiters. The arrival that makes the
// count reach parties_ unlinks the whole cycle, numbers it and resets the count in one critical
// section, so a cancel either finds its awaiter still queued (and takes back its arrival) or
// already released (the request stays pending for the task's next await): never both.

#include <coloop/sync/barrier.hpp>

#include <coloop/core/errors.hpp>

#include <stdexcept>
#include <system_error>

namespace coloop {

barrier::barrier(std::size_t parties) : parties_(parties) {
  if (parties == 0) throw std::invalid_argument("barrier: parties must be at least 1");
}

bool barrier::awaiter::enter(std::coroutine_handle<> h, detail::cancel_state* cancel) noexcept {
  barrier& b = *barrier_;
  detail::wake_batch woken;  // the released cycle, woken after the lock is released
  std::lock_guard lock(b.lock_);
  if (b.broken_) {
    set_state(detail::handoff_state::closed);
    return false;
  }
  if (b.waiting_ + 1 < b.parties_) {
    if (!park(b.waiters_, h, cancel)) return false;  // a cancel was pending: do not arrive
    ++b.waiting_;
    return true;
  }
  // The last arrival: release the cycle in arrival order; it keeps the highest index.
  std::size_t i = 0;
  while (detail::handoff_waiter* w = b.waiters_.pop_front()) {
    static_cast<awaiter&>(*w).index_ = i++;
    woken.add(*w);
  }
  b.waiting_ = 0;
  index_ = i;
  set_state(detail::handoff_state::taken);
  return false;
}

std::size_t barrier::awaiter::await_resume() {
  if (state() == detail::handoff_state::closed) {
    throw std::system_error(make_error_code(errc::closed), "barrier aborted");
  }
  check_resumed();
  return index_;
}

void barrier::withdrawn(detail::handoff_waiter&, detail::wake_batch&) noexcept {
  --waiting_;  // takes its arrival back: the cycle still needs as many as before
}

void barrier::abandoned(detail::handoff_waiter&, detail::wake_batch&) noexcept {
  // Nothing to pass on: its cycle is complete.
}

void barrier::abort() noexcept {
  detail::wake_batch woken;
  std::lock_guard lock(lock_);
  broken_ = true;
  while (detail::handoff_waiter* w = waiters_.pop_front()) {
    woken.add(*w, detail::handoff_state::closed);
  }
  waiting_ = 0;
}

std::size_t barrier::n_waiting() const noexcept {
  std::lock_guard lock(lock_);
  return waiting_;
}

bool barrier::broken() const noexcept {
  std::lock_guard lock(lock_);
  return broken_;
}

}  // namespace coloop

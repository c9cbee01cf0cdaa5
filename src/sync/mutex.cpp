// mutex: the state word says unlocked / locked / locked with waiters. The first two move
// without lock_ (the uncontended path is one CAS each way); locked_waited is set and cleared
// only under lock_, so while it is set the word and the list change together. The lock is handed
// to the head waiter (the word stays locked), so the list is non-empty only while it is locked:
// nobody barges in front of a waiter, and a cancelled waiter never has to pass anything on.

#include <coloop/sync/mutex.hpp>

namespace coloop {

bool mutex::take_or_mark_waited() noexcept {
  unsigned s = state_.load(std::memory_order_relaxed);
  for (;;) {
    if (s == unlocked) {
      // acquire: as in try_lock_fast.
      if (state_.compare_exchange_weak(s, locked_alone, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
    } else if (s == locked_alone) {
      // relaxed: the word only tells the owner's unlock to come through lock_.
      if (state_.compare_exchange_weak(s, locked_waited, std::memory_order_relaxed)) return false;
    } else {
      return false;
    }
  }
}

bool mutex::suspend(lock_awaiter& a, std::coroutine_handle<> h, detail::cancel_state* c) noexcept {
  std::lock_guard lock(lock_);
  if (take_or_mark_waited()) {
    a.set_state(detail::handoff_state::taken);
    return false;
  }
  if (a.park(waiters_, h, c)) return true;
  // relaxed: as in take_or_mark_waited.
  if (waiters_.empty()) state_.store(locked_alone, std::memory_order_relaxed);
  return false;
}

void mutex::take_notified(detail::handoff_waiter& w, detail::wake_batch& woken) noexcept {
  std::lock_guard lock(lock_);
  w.move_to(*this);
  if (take_or_mark_waited()) {
    woken.add(w);  // it resumes owning the lock
  } else {
    waiters_.push_back(w);  // still queued, now here: a cancel withdraws it from this list
  }
}

void mutex::hand_on(detail::wake_batch& woken) noexcept {
  if (detail::handoff_waiter* next = waiters_.pop_front()) {
    // relaxed: lock_ orders the hand-over; the word only tracks whether others still wait.
    if (waiters_.empty()) state_.store(locked_alone, std::memory_order_relaxed);
    woken.add(*next);
  } else {
    state_.store(unlocked, std::memory_order_release);  // release: as in unlock
  }
}

void mutex::unlock_slow() noexcept {
  detail::wake_batch woken;
  std::lock_guard lock(lock_);
  hand_on(woken);
}

void mutex::unlock_into(detail::wake_batch& woken) noexcept {
  if (unlock_fast()) return;
  std::lock_guard lock(lock_);
  hand_on(woken);
}

void mutex::withdrawn(detail::handoff_waiter&, detail::wake_batch&) noexcept {
  // relaxed: under lock_, as in hand_on.
  if (waiters_.empty()) state_.store(locked_alone, std::memory_order_relaxed);
}

void mutex::abandoned(detail::handoff_waiter&, detail::wake_batch& woken) noexcept {
  hand_on(woken);  // it owned the lock and will never unlock it
}

}  // namespace coloop

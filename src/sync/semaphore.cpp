// semaphore: permits and a "someone waits" bit in one word. Uncontended acquire and release are
// one CAS; once a task waits, the word changes only under lock_ (the fast paths see the bit and
// come through it), so permits go to the head of the FIFO and a large request at the head is not
// starved by small ones behind it. A withdrawn head may unblock the waiters behind it
// (tokio's acquire_many cancellation bug), so withdrawal dispatches again.

#include <coloop/sync/semaphore.hpp>
#include <stdexcept>
#include <string>

namespace coloop {

void semaphore::throw_bad_request(const char* what, std::size_t k) {
  throw std::invalid_argument(
      std::string(what) +
      (k == 0 ? ": k must be at least 1" : ": k is larger than semaphore::max_permits"));
}

semaphore::semaphore(std::size_t initial) : state_(initial << 1) {
  if (initial > max_permits) {
    throw std::invalid_argument("semaphore: initial count larger than semaphore::max_permits");
  }
}

std::optional<semaphore::permit> semaphore::try_acquire(std::size_t k) {
  if (k - 1 >= max_permits) throw_bad_request("semaphore::try_acquire", k);
  if (!try_take_fast(k)) return std::nullopt;
  return permit(*this, k);
}

void semaphore::release(std::size_t k) {
  if (k == 0) return;
  // Written so that nothing wraps: the permits free are at most max_permits.
  const auto overflows = [k](std::size_t s) { return k > max_permits - (s >> 1); };
  std::size_t s = state_.load(std::memory_order_relaxed);
  while ((s & waited) == 0 && !overflows(s)) {
    // release: as in give_back.
    if (state_.compare_exchange_weak(s, s + (k << 1), std::memory_order_release,
                                     std::memory_order_relaxed)) {
      return;
    }
  }
  detail::wake_batch woken;  // an overflow seen above is confirmed (and thrown) under the lock
  std::lock_guard lock(lock_);
  if (overflows(state_.load(std::memory_order_relaxed))) {
    throw std::overflow_error("semaphore::release: past max_permits");
  }
  put_back(k, woken);
}

void semaphore::give_back_slow(std::size_t k) noexcept {
  detail::wake_batch woken;
  std::lock_guard lock(lock_);
  put_back(k, woken);
}

void semaphore::put_back(std::size_t k, detail::wake_batch& woken) noexcept {
  const std::size_t s = state_.load(std::memory_order_relaxed);
  if ((s & waited) != 0) {
    dispatch((s >> 1) + k, woken);
  } else {
    // release: publishes the releaser's writes to whoever takes the permits; under lock_ the
    // bit stays clear, so only fast-path takers race with this add.
    state_.fetch_add(k << 1, std::memory_order_release);
  }
}

std::size_t semaphore::request_of(detail::handoff_waiter& w) noexcept {
  return static_cast<acquire_awaiter&>(w).k_;
}

void semaphore::dispatch(std::size_t free, detail::wake_batch& woken) noexcept {
  while (detail::handoff_waiter* head = waiters_.front()) {
    const std::size_t k = request_of(*head);
    if (free < k) break;
    free -= k;
    waiters_.pop_front();
    woken.add(*head);
  }
  // release: the permits left are published to fast-path takers once the bit clears.
  state_.store((free << 1) | (waiters_.empty() ? 0 : waited), std::memory_order_release);
}

bool semaphore::suspend(acquire_awaiter& a, std::coroutine_handle<> h,
                        detail::cancel_state* c) noexcept {
  detail::wake_batch woken;  // stays empty: the list did not change, only the bit may be cleared
  std::lock_guard lock(lock_);
  std::size_t s = state_.load(std::memory_order_relaxed);
  while ((s & waited) == 0) {
    if ((s >> 1) >= a.k_) {
      // acquire: as in try_take_fast.
      if (state_.compare_exchange_weak(s, s - (a.k_ << 1), std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        a.set_state(detail::handoff_state::taken);
        return false;
      }
    } else if (state_.compare_exchange_weak(s, s | waited, std::memory_order_relaxed)) {
      s |= waited;  // relaxed: from here the word changes only under lock_
    }
  }
  if (a.park(waiters_, h, c)) return true;
  dispatch(state_.load(std::memory_order_relaxed) >> 1, woken);
  return false;
}

void semaphore::withdrawn(detail::handoff_waiter&, detail::wake_batch& woken) noexcept {
  dispatch(state_.load(std::memory_order_relaxed) >> 1, woken);  // relaxed: under lock_
}

void semaphore::abandoned(detail::handoff_waiter& w, detail::wake_batch& woken) noexcept {
  put_back(request_of(w), woken);
}

}  // namespace coloop

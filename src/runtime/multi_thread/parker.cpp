// parker: the design and the state machine are in parker.hpp. The futex is runtime/os's (Linux's
// own, or the portable fallback); the state word's own acquire/release pairs carry the
// happens-before (TSan does not see Linux's futex, and need not).

#include "runtime/multi_thread/parker.hpp"

#include <cassert>

#include "core/cpu_relax.hpp"
#include "runtime/os/futex.hpp"

namespace coloop::detail::mt {

bool parker::try_consume() noexcept {
  std::uint32_t expected = notified;
  // acquire: pairs with unpark's release, so what the waker did before unpark is visible.
  // relaxed on failure: nothing consumed, nothing to see.
  return state_.compare_exchange_strong(expected, empty, std::memory_order_acquire,
                                        std::memory_order_relaxed);
}

bool parker::spin() noexcept {
  // relaxed: a cheap poll; try_consume's CAS does the acquiring.
  return spin_until(spin_polls_, [this] {
    return state_.load(std::memory_order_relaxed) == notified && try_consume();
  });
}

void parker::sleep() noexcept {
  std::uint32_t expected = empty;
  // acquire for the failure case (state was notified: consumed below); success needs nothing,
  // but GCC rejects a success order weaker than the failure order.
  if (!state_.compare_exchange_strong(expected, parked, std::memory_order_acquire,
                                      std::memory_order_acquire)) {
    assert(expected == notified);
    state_.store(empty, std::memory_order_relaxed);  // only the owner leaves `notified`
    return;
  }
  do {
    os::futex_wait(state_, parked);
  } while (!try_consume());
}

void parker::park() noexcept {
  if (try_consume() || spin()) return;
  sleep();
}

bool parker::begin_driving() noexcept {
  std::uint32_t expected = empty;
  // release on success: an unpark that sees `driving` also sees the waker set before it.
  // acquire on failure (a pending notification): consumed below.
  if (state_.compare_exchange_strong(expected, driving, std::memory_order_release,
                                     std::memory_order_acquire)) {
    return true;
  }
  assert(expected == notified);
  state_.store(empty, std::memory_order_relaxed);  // only the owner leaves `notified`
  return false;
}

bool parker::end_driving() noexcept {
  // acquire: if an unpark arrived while we polled, see what its caller did before it.
  return state_.exchange(empty, std::memory_order_acquire) == notified;
}

void parker::unpark() noexcept {
  // acq_rel: release makes what the caller did before unpark (queued a task) visible to the
  // woken owner; acquire, on seeing `driving`, makes the owner's waker visible to us.
  const std::uint32_t prev = state_.exchange(notified, std::memory_order_acq_rel);
  if (prev == parked) {
    os::futex_wake_one(state_);
  } else if (prev == driving) {
    assert(waker_ && "park_on_driver without set_driver_waker");
    waker_(waker_context_);
  }
}

}  // namespace coloop::detail::mt

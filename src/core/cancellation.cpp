// cancel_state's slow paths. The word moves: 0 -> slot (arm) -> 0 (disarm); 0 -> pending
// (request with nothing armed) -> 0 (consumed by the next arm); slot -> busy (a requester took the
// slot) -> 0 (withdrawn) or pending (the operation had completed first). Only the requester that
// set busy clears it, and it does so before posting the waiter, so the owner's next arm never
// sees busy from a previous request of the same await.

#include <coloop/core/cancellation.hpp>

#include <coloop/detail/scheduler.hpp>

#include "core/cpu_relax.hpp"

namespace coloop::detail {

void cancel_state::request() noexcept {
  std::uintptr_t w = word_.load(std::memory_order_acquire);
  for (;;) {
    if (w == pending_bit || w == busy) return;  // already requested, or being delivered
    const std::uintptr_t next = w == 0 ? pending_bit : busy;
    if (word_.compare_exchange_weak(w, next, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      break;
    }
  }
  if (w == 0) return;  // left pending for the next await
  auto* slot = reinterpret_cast<cancel_slot*>(w);
  const cancel_outcome out = slot->on_cancel(slot);
  word_.store(out.resume ? 0 : pending_bit, std::memory_order_release);
  // From here the waiter may run and free this state: only locals are touched.
  if (out.on != nullptr) out.on->post(out.resume);
}

/// Clears `word` to 0 if `take(w)` holds for its value; whether it did. While busy, a requester
/// is inside the armed slot's on_cancel: waits until it lets go.
template <class Take>
static bool clear_word(std::atomic<std::uintptr_t>& word, std::uintptr_t busy, Take take) noexcept {
  std::uintptr_t w = word.load(std::memory_order_acquire);
  for (;;) {
    if (w == busy) {
      cpu_relax();
      w = word.load(std::memory_order_acquire);
    } else if (!take(w)) {
      return false;
    } else if (word.compare_exchange_weak(w, 0, std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
      return true;
    }
  }
}

bool cancel_state::consume_pending_slow() noexcept {
  // busy cannot happen for the owner between awaits; tolerated anyway.
  return clear_word(word_, busy, [](std::uintptr_t w) { return w == pending_bit; });
}

void cancel_state::disarm_slow() noexcept {
  // Only a slot is cleared: with nothing armed, a pending request stays.
  clear_word(word_, busy, [](std::uintptr_t w) { return w > pending_bit; });
}

void throw_cancelled() { throw cancelled_error(); }

bool is_cancellation(const std::exception_ptr& e) noexcept {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const cancelled_error&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace coloop::detail

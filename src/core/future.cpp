// future/promise hand-off. state_: empty -> waiting (awaiter registered) -> ready, or
// empty -> ready (set before anyone waited). Transitions happen under a small spin lock shared by
// the setter (any thread), the awaiter and a canceller (any worker of the awaiter's runtime):
// the setter that finds `waiting` posts the awaiter; a canceller that finds `waiting` withdraws
// it instead; one that finds `empty` (the awaiter armed its slot but has not waited yet) leaves
// a flag that makes the awaiter not wait at all. So the value is never lost and the awaiter is
// resumed exactly once. Nothing is resumed or disarmed while the lock is held.

#include <coloop/core/future.hpp>

#include <stdexcept>
#include <utility>

#include "core/cpu_relax.hpp"

namespace coloop::detail {

void throw_promise_already_satisfied() {
  throw std::logic_error(
      "coloop::promise: value already set (set_value/set_exception called twice)");
}
void throw_future_misuse(const char* what) { throw std::logic_error(what); }

void future_state_base::claim_setter() {
  if (set_claimed_.exchange(true, std::memory_order_relaxed)) throw_promise_already_satisfied();
}

void future_state_base::lock() noexcept {
  while (lock_.exchange(true, std::memory_order_acquire)) {
    while (lock_.load(std::memory_order_relaxed)) cpu_relax();
  }
}

void future_state_base::unlock() noexcept { lock_.store(false, std::memory_order_release); }

void future_state_base::publish() noexcept {
  lock();
  const int old = state_.load(std::memory_order_relaxed);
  state_.store(ready_state, std::memory_order_release);
  unlock();
  // The awaiter's cancel slot is disarmed by the awaiter itself (resumed()).
  if (old == waiting_state) scheduler_->post_threadsafe(waiter_);
}

bool future_state_base::suspend(std::coroutine_handle<> waiter, cancel_state* cancel) {
  scheduler* sched = current_scheduler();
  if (sched == nullptr) {
    throw std::logic_error("coloop::future: awaited outside an event loop or sync_wait");
  }
  if (state_.load(std::memory_order_relaxed) == waiting_state) {
    throw std::logic_error("coloop::future: already has an awaiter (one at a time)");
  }
  // Set before arm() publishes the slot: on_cancel reads them.
  waiter_ = waiter;
  scheduler_ = sched;
  if (cancel != nullptr && !cancel->arm(this)) {
    cancelled_ = true;
    return false;
  }
  lock();
  if (state_.load(std::memory_order_relaxed) == ready_state || cancelled_early_) {
    // The value is there, or a cancel took the slot before we could wait.
    cancelled_ = std::exchange(cancelled_early_, false);
    unlock();
    if (cancel != nullptr && !cancelled_) cancel->disarm();
    return false;
  }
  cancel_ = cancel;
  state_.store(waiting_state, std::memory_order_relaxed);
  unlock();  // from here the setter or a canceller may resume us: touch nothing
  return true;
}

void future_state_base::resumed() {
  if (cancel_ != nullptr) std::exchange(cancel_, nullptr)->disarm();
  if (std::exchange(cancelled_, false)) throw_cancelled();
}

cancel_outcome future_state_base::on_cancel(cancel_slot* self) noexcept {
  auto* s = static_cast<future_state_base*>(self);
  s->lock();
  const int state = s->state_.load(std::memory_order_relaxed);
  if (state == ready_state) {
    s->unlock();
    return cancel_outcome::completed();  // the setter won: the value is on its way
  }
  if (state == empty_state) {  // armed, not yet waiting: suspend() sees this and does not wait
    s->cancelled_early_ = true;
    s->unlock();
    return cancel_outcome::passed_on();
  }
  s->state_.store(empty_state, std::memory_order_relaxed);
  s->cancelled_ = true;
  s->cancel_ = nullptr;  // the cancel_state already dropped this slot
  s->unlock();
  return {s->waiter_, s->scheduler_};
}

}  // namespace coloop::detail

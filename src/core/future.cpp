// future/promise hand-off. state_: empty -> waiting (awaiter registered) -> ready, or
// empty -> ready (set before anyone waited). The setter's exchange to ready decides who resumes
// the awaiter: if it saw `waiting`, it posts the awaiter to the awaiter's scheduler; a cancel
// that wins the CAS waiting -> empty withdraws the awaiter instead. Exactly one of them succeeds,
// so the value is never lost and the awaiter never resumed twice.

#include <coloop/core/future.hpp>

#include <stdexcept>
#include <utility>

namespace coloop::detail {

void throw_promise_already_satisfied() {
  throw std::logic_error("coloop::promise: value already set (set_value/set_exception called twice)");
}
void throw_future_misuse(const char* what) { throw std::logic_error(what); }

void future_state_base::claim_setter() {
  if (set_claimed_.exchange(true, std::memory_order_relaxed)) throw_promise_already_satisfied();
}

void future_state_base::publish() noexcept {
  // acq_rel: release publishes the result to the awaiter; acquire sees waiter_/scheduler_.
  if (state_.exchange(ready_state, std::memory_order_acq_rel) == waiting_state) {
    // The awaiter's cancel slot is disarmed by the awaiter itself (resumed()): cancel_state
    // belongs to the awaiter's thread, and until then a cancel simply fails the CAS below.
    scheduler_->post_threadsafe(waiter_);
  }
}

bool future_state_base::suspend(std::coroutine_handle<> waiter, cancel_state* cancel) {
  scheduler* sched = current_scheduler();
  if (sched == nullptr) {
    throw std::logic_error("coloop::future: awaited outside an event loop or sync_wait");
  }
  int expected = empty_state;
  if (state_.load(std::memory_order_relaxed) == waiting_state) {
    throw std::logic_error("coloop::future: already has an awaiter (one at a time)");
  }
  if (cancel != nullptr && !cancel->arm(this)) {
    cancelled_ = true;
    return false;
  }
  waiter_ = waiter;
  scheduler_ = sched;
  cancel_ = cancel;
  // Release publishes waiter_ to the setter; on failure the value is already there.
  if (!state_.compare_exchange_strong(expected, waiting_state, std::memory_order_acq_rel)) {
    if (cancel != nullptr) cancel->disarm();
    cancel_ = nullptr;
    return false;
  }
  return true;
}

void future_state_base::resumed() {
  if (cancel_ != nullptr) std::exchange(cancel_, nullptr)->disarm();
  if (std::exchange(cancelled_, false)) throw_cancelled();
}

cancel_outcome future_state_base::on_cancel(cancel_slot* self) noexcept {
  auto* s = static_cast<future_state_base*>(self);
  int expected = waiting_state;
  if (!s->state_.compare_exchange_strong(expected, empty_state, std::memory_order_acq_rel)) {
    return cancel_outcome::completed();  // the setter won: the value is on its way
  }
  s->cancelled_ = true;
  s->cancel_ = nullptr;  // the cancel_state already dropped this slot
  return {s->waiter_, s->scheduler_};
}

}  // namespace coloop::detail

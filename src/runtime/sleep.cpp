// The timer awaitables (sleep_for / sleep_until, wait_for's deadline), yield and now, on the
// driver and scheduler of this thread's context (context.hpp), whichever scheduler it is.
// Threading: on the runtime a timer fires on the worker that drives while its task may be
// cancelled on another; a sleep's `claimed_` picks the winner (on_fire). Shutdown: an awaiter
// whose frame is destroyed while armed (its scheduler closing) withdraws its timer.

#include <coloop/runtime/now.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/wait_for.hpp>
#include <coloop/runtime/yield.hpp>

#include "runtime/context.hpp"

namespace coloop {

time_point now() { return time_point(duration(detail::current_driver("coloop::now").now())); }

std::string_view running_backend() {
  return detail::current_driver("coloop::running_backend").backend_name();
}

}  // namespace coloop

namespace coloop::detail {

std::int64_t deadline_after(duration d) {
  return current_driver("coloop::sleep_for").deadline_after(d.count() < 0 ? 0 : d.count());
}

bool sleep_awaiter::start(std::coroutine_handle<> waiter, cancel_state* cancel) {
  context& ctx = current_context("coloop::sleep_until");
  // Everything on_cancel reads is set before arm() publishes the slot to other threads.
  waiter_ = waiter;
  ctx_ = &ctx;
  cancel_ = cancel;
  node_.fire = &on_fire;
  if (!ctx.drv().insert_timer(node_, cancel, this)) {
    ctx_ = nullptr;
    cancel_ = nullptr;
    cancelled_ = true;
    return false;
  }
  return true;
}

// Firing and cancelling race on the runtime (the driver fires under the timer lock while a
// worker cancels): `claimed_` picks the winner without a lock, so on_fire's disarm never waits
// for a canceller that waits for the timer lock.
void sleep_awaiter::on_fire(timer_node* node) noexcept {
  sleep_awaiter* self = static_cast<node_type*>(node)->owner;
  if (self->claimed_.exchange(true, std::memory_order_acq_rel)) return;  // the canceller resumes it
  if (self->cancel_ != nullptr) self->cancel_->disarm();
  self->ctx_->post(self->waiter_);
}

cancel_outcome sleep_awaiter::on_cancel(cancel_slot* self) noexcept {
  auto* s = static_cast<sleep_awaiter*>(self);
  if (s->claimed_.exchange(true, std::memory_order_acq_rel)) {
    return cancel_outcome::completed();  // fired: the wake-up is queued
  }
  s->ctx_->drv().remove_timer(s->node_);  // a no-op if the driver already took it out to fire it
  s->cancelled_ = true;
  return {s->waiter_, s->ctx_};
}

sleep_awaiter::~sleep_awaiter() {
  // The frame is being destroyed while the sleep is pending (the loop is closing).
  if (ctx_ != nullptr && node_.armed()) {
    ctx_->drv().remove_timer(node_);
    if (cancel_ != nullptr) cancel_->disarm();
  }
}

bool yield_awaiter::start(std::coroutine_handle<> waiter, cancel_state* cancel) {
  context* ctx = this_context;
  if (ctx == nullptr) [[unlikely]] ctx = &current_context("coloop::yield");  // throws
  if (cancel != nullptr && cancel->consume_pending()) {
    cancelled_ = true;
    return false;
  }
  ctx->post_yield(waiter);
  return true;
}

deadline_timer::deadline_timer(duration timeout, cancel_state& target)
    : target_(&target), driver_(&current_driver("coloop::wait_for")) {
  node_.owner = this;
  node_.fire = &on_fire;
  node_.deadline = driver_->deadline_after(timeout.count() < 0 ? 0 : timeout.count());
  driver_->insert_timer(node_);
}

void deadline_timer::disarm() noexcept { driver_->remove_timer(node_); }

void deadline_timer::on_fire(timer_node* node) noexcept {
  deadline_timer* self = static_cast<node_type*>(node)->owner;
  self->fired_.store(true, std::memory_order_release);
  self->target_->request();
}

void throw_timeout() { throw timeout_error(); }

}  // namespace coloop::detail

// sleep_for / sleep_until / yield.

#include <coloop/runtime/sleep.hpp>

#include <limits>

#include "runtime/loop_core.hpp"

namespace coloop {

time_point now() { return time_point(duration(detail::current_loop_core("coloop::now").now())); }

}  // namespace coloop

namespace coloop::detail {

std::int64_t deadline_after(duration d) {
  const std::int64_t now = current_loop_core("coloop::sleep_for").now();
  const std::int64_t ns = d.count() < 0 ? 0 : d.count();
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  return ns > max - now ? max : now + ns;
}

bool sleep_awaiter::start(std::coroutine_handle<> waiter, cancel_state* cancel) {
  loop_core& loop = current_loop_core("coloop::sleep_until");
  if (cancel != nullptr && !cancel->arm(this)) {
    cancelled_ = true;
    return false;
  }
  waiter_ = waiter;
  cancel_ = cancel;
  loop_ = &loop;
  node_.fire = &on_fire;
  loop.timers().insert(node_);
  return true;
}

void sleep_awaiter::on_fire(timer_node* node) noexcept {
  sleep_awaiter* self = static_cast<node_type*>(node)->owner;
  if (self->cancel_ != nullptr) self->cancel_->disarm();
  static_cast<loop_core*>(self->loop_)->post(self->waiter_);
}

bool sleep_awaiter::on_cancel(cancel_slot* self) noexcept {
  auto* s = static_cast<sleep_awaiter*>(self);
  if (!s->node_.armed()) return false;  // fired: the wake-up is already queued
  static_cast<loop_core*>(s->loop_)->timers().remove(s->node_);
  s->cancelled_ = true;
  static_cast<loop_core*>(s->loop_)->post(s->waiter_);
  return true;
}

sleep_awaiter::~sleep_awaiter() {
  // The frame is being destroyed while the sleep is pending (the loop is closing).
  if (loop_ != nullptr && node_.armed()) {
    static_cast<loop_core*>(loop_)->timers().remove(node_);
    if (cancel_ != nullptr) cancel_->disarm();
  }
}

bool yield_awaiter::start(std::coroutine_handle<> waiter, cancel_state* cancel) {
  loop_core& loop = current_loop_core("coloop::yield");
  if (cancel != nullptr && cancel->consume_pending()) {
    cancelled_ = true;
    return false;
  }
  loop.post(waiter);
  return true;
}

}  // namespace coloop::detail

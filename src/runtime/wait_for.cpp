// wait_for's deadline timer.

#include <coloop/runtime/wait_for.hpp>

#include <coloop/runtime/sleep.hpp>

#include "runtime/context.hpp"

namespace coloop::detail {

deadline_timer::deadline_timer(duration timeout, cancel_state& target)
    : target_(&target), driver_(&current_driver("coloop::wait_for")) {
  node_.owner = this;
  node_.fire = &on_fire;
  node_.deadline = deadline_after(timeout);
  driver_->insert_timer(node_);
}

void deadline_timer::disarm() noexcept {
  driver_->remove_timer(node_);
}

void deadline_timer::on_fire(timer_node* node) noexcept {
  deadline_timer* self = static_cast<node_type*>(node)->owner;
  self->fired_.store(true, std::memory_order_release);
  self->target_->request();
}

void throw_timeout() { throw timeout_error(); }

}  // namespace coloop::detail

// queue_base: the item-independent half of coloop's queues. Invariants (under lock_): getters
// wait only while the buffer is empty and putters only while it is full, so a put hands its item
// straight to the first getter and a get lets the first putter's item in; unfinished_ counts the
// items put and not yet task_done(), and join() waiters are woken the moment it reaches zero.

#include <coloop/detail/queue_base.hpp>
#include <stdexcept>
#include <system_error>

namespace coloop::detail {

bool queue_base::join_ready() noexcept {
  std::lock_guard lock(lock_);
  return unfinished_ == 0;
}

bool queue_base::join_suspend(join_awaiter& a, std::coroutine_handle<> h,
                              cancel_state* c) noexcept {
  std::lock_guard lock(lock_);
  if (unfinished_ == 0) return false;
  return a.park(joiners_, h, c);
}

void queue_base::task_done_impl() {
  wake_batch woken;
  std::lock_guard lock(lock_);
  if (unfinished_ == 0) {
    throw std::logic_error("queue::task_done: called more times than there were items");
  }
  forget_unfinished(1, woken);
}

void queue_base::forget_unfinished(std::size_t n, wake_batch& woken) noexcept {
  unfinished_ = n >= unfinished_ ? 0 : unfinished_ - n;
  if (unfinished_ != 0) return;
  while (handoff_waiter* j = joiners_.pop_front()) woken.add(*j);
}

void queue_base::close_waiters(wake_batch& woken) noexcept {
  closed_ = true;
  while (handoff_waiter* g = getters_.pop_front()) woken.add(*g, handoff_state::closed);
  while (handoff_waiter* p = putters_.pop_front()) woken.add(*p, handoff_state::closed);
}

void queue_base::throw_closed() { throw std::system_error(make_error_code(errc::closed)); }

}  // namespace coloop::detail

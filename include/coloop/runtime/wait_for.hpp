#pragma once
// wait_for: bound an awaitable by a timeout (asyncio.wait_for).

#include <atomic>
#include <utility>

#include <coloop/detail/group.hpp>
#include <coloop/detail/timer_node.hpp>
#include <coloop/runtime/loop_options.hpp>

namespace coloop {

namespace detail {

class driver;

/// A timer on the current loop that cancels `target` when it expires. Embedded in the wait_for
/// frame and fired synchronously by the loop, so nothing can outlive the frame.
class deadline_timer {
 public:
  deadline_timer(duration timeout, cancel_state& target);
  deadline_timer(const deadline_timer&) = delete;
  deadline_timer& operator=(const deadline_timer&) = delete;
  ~deadline_timer() { disarm(); }
  void disarm() noexcept;
  bool fired() const noexcept { return fired_.load(std::memory_order_acquire); }

 private:
  struct node_type : timer_node {
    deadline_timer* owner = nullptr;
  };
  static void on_fire(timer_node* node) noexcept;
  node_type node_;
  cancel_state* target_;
  driver* driver_;
  std::atomic<bool> fired_{false};  // set by the driver thread on the runtime
};

[[noreturn]] void throw_timeout();

template <class Awaitable>
decltype(auto) get_awaiter(Awaitable&& aw) {
  if constexpr (requires { std::forward<Awaitable>(aw).operator co_await(); }) {
    return std::forward<Awaitable>(aw).operator co_await();
  } else {
    return std::forward<Awaitable>(aw);
  }
}
template <class Awaitable>
using await_result_t = decltype(get_awaiter(std::declval<Awaitable>()).await_resume());

template <class Awaitable>
auto as_task(Awaitable aw) -> task<await_result_t<Awaitable>> {
  co_return co_await std::move(aw);
}

}  // namespace detail

/// Awaits `t`, cancelling it if it has not finished after `timeout`; the timeout then surfaces
/// as coloop::timeout_error once `t` has stopped. A result that arrives as the timer fires is
/// returned, not lost. Cancelling the awaiting task cancels `t` and throws cancelled_error.
template <class T>
task<T> wait_for(task<T> t, duration timeout) {
  auto child = detail::make_group_child(std::move(t));
  detail::group_child_promise_base* list[1] = {child.base()};
  detail::group_state group(detail::group_mode::any);
  detail::deadline_timer timer(timeout, child.base()->own_cancel_);
  co_await detail::group_awaiter{group, list, 1};
  timer.disarm();
  if (timer.fired() && !group.parent_cancelled() && detail::is_cancellation(child.base()->error_)) {
    detail::throw_timeout();
  }
  if constexpr (std::is_void_v<T>) {
    child.take();
  } else {
    co_return child.take();
  }
}

/// wait_for over any awaitable (a sleep, a future, an I/O operation, ...), taken by value.
template <class Awaitable>
auto wait_for(Awaitable aw, duration timeout) {
  return wait_for(detail::as_task(std::move(aw)), timeout);
}

}  // namespace coloop

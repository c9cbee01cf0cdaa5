#pragma once
// sleep_for and sleep_until: timer awaitables on the loop running on this thread (yield() is in
// <coloop/runtime/yield.hpp>, now() in <coloop/runtime/now.hpp>).

#include <atomic>
#include <coroutine>
#include <cstdint>

#include <coloop/detail/promise_base.hpp>
#include <coloop/detail/timer_node.hpp>
#include <coloop/runtime/loop_options.hpp>

namespace coloop {

namespace detail {

class context;

/// The timer of a sleep, embedded in the awaiting frame: arming and cancelling allocate nothing.
class [[nodiscard]] sleep_awaiter : private cancel_slot {
 public:
  explicit sleep_awaiter(std::int64_t deadline_ns) noexcept
      : cancel_slot{&on_cancel} {
    node_.deadline = deadline_ns;
    node_.owner = this;
  }
  /// Movable until awaited (so it can be passed to wait_for and the like).
  sleep_awaiter(sleep_awaiter&& other) noexcept : sleep_awaiter(other.node_.deadline) {}
  sleep_awaiter& operator=(sleep_awaiter&&) = delete;
  ~sleep_awaiter();

  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> waiter) {
    return start(waiter, cancel_state_of(waiter));
  }
  void await_resume() const {
    if (cancelled_) throw_cancelled();
  }

 private:
  bool start(std::coroutine_handle<> waiter, cancel_state* cancel);
  static cancel_outcome on_cancel(cancel_slot* self) noexcept;
  static void on_fire(timer_node* node) noexcept;

  struct node_type : timer_node {
    sleep_awaiter* owner = nullptr;
  };
  node_type node_;
  std::coroutine_handle<> waiter_;
  cancel_state* cancel_ = nullptr;
  context* ctx_ = nullptr;
  std::atomic<bool> claimed_{false};  // fired or cancelled, whichever came first
  bool cancelled_ = false;
};

std::int64_t deadline_after(duration d);  // now + d on the current loop, saturating

}  // namespace detail

/// Suspends the calling task for at least `d` on the loop's clock. Cancellable: a cancelled
/// sleep throws cancelled_error. Throws std::logic_error when no loop runs on this thread.
inline detail::sleep_awaiter sleep_for(duration d) {
  return detail::sleep_awaiter(detail::deadline_after(d));
}
/// Suspends the calling task until the loop's clock reaches `t` (never earlier). Cancellable.
inline detail::sleep_awaiter sleep_until(time_point t) {
  return detail::sleep_awaiter(t.time_since_epoch().count());
}

}  // namespace coloop

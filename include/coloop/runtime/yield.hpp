#pragma once
// yield(): let the other ready tasks of the loop running on this thread go first.

#include <coroutine>

#include <coloop/detail/promise_base.hpp>

namespace coloop {

namespace detail {

class [[nodiscard]] yield_awaiter {
 public:
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
  bool cancelled_ = false;
};

}  // namespace detail

/// Lets the other ready tasks run before this one continues (asyncio.sleep(0)). Throws
/// cancelled_error if a cancel is pending.
inline detail::yield_awaiter yield() noexcept { return {}; }

}  // namespace coloop

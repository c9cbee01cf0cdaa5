#pragma once
// sync_wait: run a task to completion on the calling thread.

#include <coroutine>
#include <utility>

#include <coloop/core/task.hpp>

namespace coloop {

namespace detail {
/// Resumes `root` and everything it posts on this thread until `root` is done, blocking while
/// the queue is empty (a future set from another thread posts here). Throws std::logic_error
/// when called on a thread that already runs a scheduler.
void sync_wait_drive(std::coroutine_handle<> root);
}  // namespace detail

/// Runs `t` on the calling thread until it finishes and returns its value or rethrows its
/// exception. For tasks that need no event loop (use coloop::run for those that do). Calling it
/// from inside a running event_loop or sync_wait, or on a task another coroutine awaits, throws
/// std::logic_error; a task that has already ended gives its outcome again.
template <class T>
T sync_wait(task<T> t) {
  if (!t.valid()) detail::throw_empty_task();
  if (!t.done()) {  // a task that has ended gives its outcome again, as co_await does
    if (t.handle().promise().continuation_) detail::throw_task_awaited_twice();
    detail::cancel_state cancel;
    t.handle().promise().cancel_ = &cancel;
    detail::sync_wait_drive(t.handle());
  }
  if constexpr (std::is_reference_v<T> || std::is_void_v<T>) {
    return t.handle().promise().outcome().get();
  } else {
    return std::move(t.handle().promise().outcome()).get();
  }
}

}  // namespace coloop

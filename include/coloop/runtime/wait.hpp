#pragma once
// wait, as_completed, shield: watching spawned tasks without owning them (asyncio.wait,
// asyncio.as_completed / tokio's JoinSet::join_next, asyncio.shield).

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include <coloop/detail/watch.hpp>
#include <coloop/runtime/loop_options.hpp>
#include <coloop/runtime/spawn.hpp>

namespace coloop {

/// When wait() returns.
enum class return_when : unsigned char {
  all_completed,    ///< every task has finished
  first_completed,  ///< any task has finished
  first_exception,  ///< any task has failed (not by cancellation), else all have finished
};

/// wait()'s answer: indices into the handle vector, ascending.
struct wait_result {
  std::vector<std::size_t> done;     ///< finished (value, exception or cancellation)
  std::vector<std::size_t> pending;  ///< still running
};

namespace detail {
struct join_handle_access {
  template <class T>
  static spawn_promise_base* root(const join_handle<T>& h) noexcept {
    return h.p_;
  }
};
/// Throws std::logic_error naming `api` and the index for an empty, taken or awaited handle.
void check_watchable(const std::vector<spawn_promise_base*>& roots, const char* api);
template <class T>
std::vector<spawn_promise_base*> roots_of(const std::vector<join_handle<T>>& handles,
                                          const char* api) {
  std::vector<spawn_promise_base*> roots;
  roots.reserve(handles.size());
  for (const auto& h : handles) roots.push_back(join_handle_access::root(h));
  check_watchable(roots, api);
  return roots;
}
task<wait_result> wait_on(std::vector<spawn_promise_base*> roots, std::optional<duration> timeout,
                          return_when when);
}  // namespace detail

/// Waits until `when` holds for `handles` or `timeout` passes (none: no limit), and says which
/// tasks have finished. Never cancels them, nor does cancelling the awaiting task (the await
/// then throws cancelled_error). The handles must stay in place and unawaited until it returns;
/// an empty (detached, moved-from) handle, or one another task awaits, is a std::logic_error,
/// thrown at the call. Awaiting the finished handles afterwards does not suspend.
template <class T>
task<wait_result> wait(std::vector<join_handle<T>>& handles,
                       std::optional<duration> timeout = std::nullopt,
                       return_when when = return_when::all_completed) {
  return detail::wait_on(detail::roots_of(handles, "coloop::wait"), timeout, when);
}
/// wait(handles, no timeout, when).
template <class T>
task<wait_result> wait(std::vector<join_handle<T>>& handles, return_when when) {
  return detail::wait_on(detail::roots_of(handles, "coloop::wait"), std::nullopt, when);
}

/// The tasks of `handles` in the order they finish: each `co_await` yields the index of the
/// next one to finish (at once if one already has), and an empty optional once every one has
/// been yielded. Never cancels the tasks; cancelling the awaiting task throws cancelled_error
/// and the object stays usable. While it lives, the handles must stay in place; their finished
/// tasks may be awaited, the unfinished ones only cancelled (awaiting them throws
/// std::logic_error). Errors at construction as wait(). One task at a time; not movable.
class as_completed {
 public:
  template <class T>
  explicit as_completed(std::vector<join_handle<T>>& handles)
      : s_(detail::watch_create(detail::roots_of(handles, api), api)) {}
  as_completed(const as_completed&) = delete;
  as_completed& operator=(const as_completed&) = delete;
  ~as_completed() { detail::watch_destroy(s_); }

  /// Awaitable: std::optional<std::size_t>, the next index, or empty when all were yielded.
  auto operator co_await() & { return awaiter{{s_, nullptr, next_ + 1, false}, this}; }
  /// Tasks not yet yielded.
  std::size_t remaining() const noexcept { return detail::watch_count(*s_) - next_; }

 private:
  static constexpr const char* api = "coloop::as_completed";
  struct awaiter {
    detail::watch_awaiter inner;
    as_completed* self;
    bool await_ready() const noexcept {
      return self->next_ == detail::watch_count(*self->s_) || inner.await_ready();
    }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> waiter) {
      return inner.await_suspend(waiter);
    }
    std::optional<std::size_t> await_resume() {
      if (self->next_ == detail::watch_count(*self->s_)) return std::nullopt;
      if (inner.await_resume() != detail::watch_outcome::ready) detail::throw_cancelled();
      return detail::watch_at(*self->s_, self->next_++);
    }
  };
  detail::watch_set* s_;
  std::size_t next_ = 0;
};

/// Spawns `t` on this thread's loop and awaits it; cancelling the awaiting task throws
/// cancelled_error at once but leaves `t` running (asyncio.shield). An exception `t` ends with
/// after nobody waits goes to the loop's exception handler. Otherwise yields t's value or
/// rethrows its exception. Throws std::logic_error when no loop runs here.
template <class T>
task<T> shield(task<T> t) {
  join_handle<T> h = spawn(std::move(t));
  std::vector<join_handle<T>> one;
  one.push_back(std::move(h));
  auto watch = detail::wait_on(detail::roots_of(one, "coloop::shield"), std::nullopt,
                               return_when::all_completed);
  co_await std::move(watch);
  co_return co_await std::move(one.front());
}

}  // namespace coloop

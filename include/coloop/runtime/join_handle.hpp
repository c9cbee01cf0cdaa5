#pragma once
// join_handle<T>: the handle of a spawned task, to join or cancel it later (spawn() is in
// <coloop/runtime/spawn.hpp>).

#include <coroutine>
#include <string_view>
#include <type_traits>
#include <utility>

#include <coloop/detail/spawned.hpp>

namespace coloop {

/// How to spawn a task: `spawn(t, {.name = "conn 42"})`.
struct spawn_options {
  /// Shown by task dumps and debug-mode reports (join_handle::set_name changes it later).
  std::string_view name;
};

namespace detail {
[[noreturn]] void throw_empty_join_handle(bool taken);
struct join_handle_access;  // wait / as_completed: the spawned task behind a handle
}  // namespace detail

/// The handle of a spawned task. `co_await h` (an lvalue) yields a reference to the task's stored
/// value (void for join_handle<void>) or rethrows its exception (cancelled_error if it was
/// cancelled), the same each time it is awaited; `co_await std::move(h)` moves the value out, and
/// awaiting the handle after that throws std::logic_error. Cancelling the awaiting task cancels
/// the spawned one too and still waits for it to finish. Dropping the handle detaches the task: it
/// keeps running and an exception it ends with goes to the loop's exception handler. Move-only;
/// one awaiter at a time (a second concurrent one gets std::logic_error); use it from one task at
/// a time (on the runtime that task may run on any worker). Await it from a task of the same
/// event loop or runtime: from any other thread, `co_await` throws std::logic_error (the task's
/// end resumes its joiner on the task's own thread).
template <class T>
class join_handle {
 public:
  join_handle() noexcept = default;
  explicit join_handle(detail::spawn_promise_base* p) noexcept : p_(p) {}
  join_handle(join_handle&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  join_handle& operator=(join_handle&& other) noexcept {
    if (this != &other) {
      detach();
      p_ = std::exchange(other.p_, nullptr);
    }
    return *this;
  }
  join_handle(const join_handle&) = delete;
  join_handle& operator=(const join_handle&) = delete;
  ~join_handle() { detach(); }

  /// Whether this handle refers to a task (false after detach or move).
  bool valid() const noexcept { return p_ != nullptr; }
  /// Whether the task has finished (with a value, an exception or by cancellation).
  bool done() const noexcept { return p_ == nullptr || p_->is_done(); }
  /// Asks the task to stop: its pending (or next) co_await throws cancelled_error. A no-op once
  /// the task is done.
  void cancel() noexcept {
    if (p_ != nullptr) p_->request_cancel();
  }
  /// Names the task for task dumps and debug-mode reports (spawn_options::name). A no-op on an
  /// empty handle.
  void set_name(std::string_view name) {
    if (p_ != nullptr) detail::name_task(*p_, name);
  }
  /// Lets the task run on without a handle; its exception, if any, goes to the loop's handler.
  void detach() noexcept {
    if (p_ != nullptr) std::exchange(p_, nullptr)->detach();
  }

  /// Awaitable: the task's value moved out (T), or its exception; awaiting the handle again
  /// throws std::logic_error. For move-only results and one-shot joins.
  auto operator co_await() && { return awaiter<true>{checked()}; }
  /// Awaitable: T& to the value kept in the handle (alive while the handle is), or the exception
  /// rethrown; the same object each time. `auto v = co_await h;` copies.
  auto operator co_await() & { return awaiter<false>{checked()}; }

 private:
  friend struct detail::join_handle_access;
  template <bool Take>
  struct [[nodiscard]] awaiter {
    detail::spawn_promise_base* p;
    bool suspended = false;
    ~awaiter() {
      if (suspended && !p->is_done()) p->join_abandon();
    }
    bool await_ready() const noexcept { return p->is_done(); }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> joiner) {
      // Set first: once join_suspend publishes the joiner, the task may finish on another
      // worker and resume us before it returns.
      p->check_joinable();
      suspended = true;
      std::coroutine_handle<> next;
      try {
        next = p->join_await(joiner, detail::cancel_state_of(joiner));
      } catch (...) {
        suspended = false;  // awaited on a thread that does not run the task: nothing registered
        throw;
      }
      if (next == joiner) suspended = false;  // finished meanwhile: go on
      return next;
    }
    decltype(auto) await_resume() {
      suspended = false;
      // Before join_resume: a rethrown exception is taken out too.
      if constexpr (Take) p->taken_ = true;
      p->join_resume();
      auto& value = detail::spawned_promise<T>(*p).outcome();
      if constexpr (std::is_void_v<T> || std::is_reference_v<T> || !Take) {
        return value.get();
      } else {
        return std::move(value).get();
      }
    }
  };
  detail::spawn_promise_base* checked() const {
    if (p_ == nullptr || p_->taken_) [[unlikely]] {
      detail::throw_empty_join_handle(p_ != nullptr);
    }
    return p_;
  }
  detail::spawn_promise_base* p_ = nullptr;  // the join state, in the task's own promise
};

namespace detail {
/// Spawns `t` on `ctx`, or on this thread's scheduler when null (coloop::spawn's error if none).
template <class T>
join_handle<T> spawn_on(context* ctx, task<T> t, site where, std::string_view name = {}) {
  spawn_promise_base& s = make_spawned(t, where);
  try {
    if (!name.empty()) name_task(s, name);
    if (ctx != nullptr) {
      start_spawned(*ctx, s);
    } else {
      start_spawned_here(s, "coloop::spawn");
    }
  } catch (...) {
    s.discard();
    throw;
  }
  (void)t.release();  // the join state's references own the frame now
  return join_handle<T>(&s);
}
}  // namespace detail

}  // namespace coloop

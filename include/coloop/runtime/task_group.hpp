#pragma once
// task_group: structured concurrency (asyncio.TaskGroup, Trio's nursery, tokio's JoinSet).

#include <coroutine>
#include <type_traits>
#include <utility>

#include <coloop/core/exception_group.hpp>
#include <coloop/detail/task_group_core.hpp>
#include <coloop/runtime/spawn.hpp>

namespace coloop {

/// Children spawned together and joined together. The first child that fails (other than by
/// cancellation) cancels the others; join() waits for every child and then throws
/// exception_group holding every failure in the order they happened. Cancelling the task that
/// awaits join() cancels every child; join() then throws cancelled_error once all have finished
/// (their failures, if any, go to the loop's exception handler). The group owns its children:
/// dropping or detaching a handle from spawn() does not take the child out of it. Destroying a
/// group that has unfinished children without joining it cancels them, leaves them to the loop
/// (which joins them, at the latest when it closes) and reports a std::logic_error through the
/// loop's exception handler. Move-only; use it from one task at a time (children may finish on
/// any runtime worker).
class task_group {
 public:
  /// Throws std::bad_alloc only.
  task_group() : g_(detail::group_create()) {}
  task_group(task_group&& other) noexcept : g_(std::exchange(other.g_, nullptr)) {}
  task_group& operator=(task_group&&) = delete;
  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;
  ~task_group() {
    if (g_ != nullptr) detail::group_drop(g_);
  }

  /// Starts `t` as a child on the loop or runtime running on this thread (as coloop::spawn).
  /// Throws std::logic_error when join() has finished, when the group is cancelled (by cancel(),
  /// a child's failure or the joiner's cancellation), when no loop runs here, or `t` is empty.
  template <class T>
  join_handle<T> spawn(task<T> t, spawn_options options = {},
                       detail::site where = detail::site::here()) {
    detail::context& loop = detail::current_context("coloop::task_group::spawn");
    detail::spawn_promise_base& s = detail::make_spawned(t, where);
    try {
      if (!options.name.empty()) detail::name_task(s, options.name);
      detail::group_start(core(), loop, s);
    } catch (...) {
      s.discard();
      throw;
    }
    (void)t.release();  // the join state's references own the frame now
    return join_handle<T>(&s);
  }

  /// Starts `fn(args...)` as a child, storing `fn` and `args` in its frame (coloop::spawn(f,
  /// args...)'s rules), so a capturing lambda may be a temporary. Errors as spawn(task).
  template <class F, class... Args>
    requires(!detail::spawned_value<std::decay_t<F>>::is_task)
  auto spawn(F&& fn, Args&&... args) {
    static_assert(
        std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>,
        "coloop::task_group::spawn: fn must be callable with rvalues of the decayed args");
    using R = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;
    static_assert(detail::spawned_value<R>::is_task,
                  "coloop::task_group::spawn: fn(args...) must return a task");
    using T = typename detail::spawned_value<R>::type;
    return spawn(detail::invoke_stored<T, std::decay_t<F>, std::decay_t<Args>...>(
        std::forward<F>(fn), std::forward<Args>(args)...));
  }

  /// Awaitable: waits until every child has finished. Throws exception_group if any failed,
  /// cancelled_error if the awaiting task was cancelled (its children are cancelled first), and
  /// std::logic_error if join() is already awaited or has finished before.
  auto join() { return join_awaiter{&core()}; }

  /// Cancels every unfinished child; spawning afterwards throws. Not a failure: join() does not
  /// throw for children that end with cancelled_error. Any thread of the loop or runtime.
  void cancel() noexcept {
    if (g_ != nullptr) detail::group_cancel(*g_);
  }
  /// Children not yet finished.
  std::size_t size() const noexcept { return g_ == nullptr ? 0 : detail::group_size(*g_); }

 private:
  struct [[nodiscard]] join_awaiter {
    detail::group_core* g;
    bool suspended = false;
    ~join_awaiter() {
      if (suspended) detail::group_join_abandon(*g);
    }
    bool await_ready() const { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> joiner) {
      detail::group_join_check(*g);
      suspended = true;  // before publishing: a child may resume us from another worker
      if (detail::group_join_suspend(*g, joiner, detail::cancel_state_of(joiner))) return true;
      suspended = false;
      return false;
    }
    void await_resume() {
      suspended = false;
      detail::group_join_resume(*g);
    }
  };
  detail::group_core& core() const {
    if (g_ == nullptr) [[unlikely]] throw_moved_from();
    return *g_;
  }
  [[noreturn]] static void throw_moved_from();
  detail::group_core* g_;
};

}  // namespace coloop

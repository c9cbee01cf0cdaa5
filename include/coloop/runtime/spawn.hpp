#pragma once
// spawn(): run a task concurrently on the loop of this thread and join it later through its
// join_handle (asyncio.create_task / tokio::spawn).

#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#include <coloop/runtime/join_handle.hpp>

namespace coloop {

/// Starts `t` on the event loop running on this thread; it first runs on a later loop turn.
/// Throws std::logic_error when no loop runs on this thread.
/// `where` is the call's file and line, for task dumps.
template <class T>
join_handle<T> spawn(task<T> t, detail::site where = detail::site::here()) {
  return detail::spawn_on(nullptr, std::move(t), where);
}
/// spawn(t), named by `options` for task dumps and debug mode: `spawn(t, {.name = "conn 42"})`.
template <class T>
join_handle<T> spawn(task<T> t, spawn_options options, detail::site where = detail::site::here()) {
  return detail::spawn_on(nullptr, std::move(t), where, options.name);
}

namespace detail {
template <class R>
struct spawned_value {
  static constexpr bool is_task = false;
};
template <class T>
struct spawned_value<task<T>> {
  static constexpr bool is_task = true;
  using type = T;
};

/// The spawned task's body: it owns `fn` and `args` until `fn`'s task has finished, so a
/// capturing lambda coroutine's closure outlives the coroutine that refers to it. They move
/// into locals, which die when the body ends: the parameters live as long as the frame, which
/// the join_handle keeps for the result.
template <class T, class F, class... Args>
task<T> invoke_stored(F fn, Args... args) {
  F f = std::move(fn);
  std::tuple<Args...> a(std::move(args)...);
  co_return co_await std::apply(std::move(f), std::move(a));
}
}  // namespace detail

/// Starts `fn(args...)` (a coroutine function, or a lambda returning task<T>) on the event loop
/// running on this thread, as spawn(task). `fn` and `args` are decay-copied (moved when
/// rvalues) into the spawned task, kept until it ends and passed as rvalues (std::thread's rule;
/// std::ref passes a reference), so `fn` may be a temporary capturing lambda. Cancelling the
/// handle cancels fn's task. Throws std::logic_error when no loop runs here.
template <class F, class... Args>
  requires(!detail::spawned_value<std::decay_t<F>>::is_task)
auto spawn(F&& fn, Args&&... args) {
  static_assert(std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>,
                "coloop::spawn: fn must be callable with rvalues of the decayed args");
  using R = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;
  static_assert(detail::spawned_value<R>::is_task, "coloop::spawn: fn(args...) must return a task");
  using T = typename detail::spawned_value<R>::type;
  return spawn(detail::invoke_stored<T, std::decay_t<F>, std::decay_t<Args>...>(
      std::forward<F>(fn), std::forward<Args>(args)...));
}

}  // namespace coloop

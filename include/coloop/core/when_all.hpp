#pragma once
// when_all: run tasks concurrently and gather their results (asyncio.gather).

#include <array>
#include <tuple>
#include <vector>

#include <coloop/detail/group.hpp>

namespace coloop {

/// Runs the tasks concurrently and returns their results in order (std::monostate for void).
/// The first failure cancels the others; once all have finished it is rethrown. Cancelling the
/// awaiting task cancels every child. Every child has finished when this returns or throws.
template <class... Ts>
task<std::tuple<detail::non_void_t<Ts>...>> when_all(task<Ts>... tasks) {
  std::tuple children{detail::make_group_child(std::move(tasks))...};
  std::array<detail::group_child_promise_base*, sizeof...(Ts)> list =
      std::apply([](auto&... c) { return std::array{c.base()...}; }, children);
  detail::group_state group(detail::group_mode::all);
  co_await detail::group_awaiter{group, list.data(), list.size()};
  co_return std::apply(
      [](auto&... c) { return std::tuple<detail::non_void_t<Ts>...>{c.take()...}; }, children);
}

namespace detail {
template <class T>
task<std::vector<T>> when_all_vector(std::vector<task<T>> tasks) {
  child_list<T> list(tasks);
  group_state group(group_mode::all);
  co_await group_awaiter{group, list.bases.data(), list.bases.size()};
  std::vector<T> results;
  results.reserve(list.children.size());
  for (auto& c : list.children) results.push_back(c.take());
  co_return results;
}
inline task<void> when_all_vector(std::vector<task<void>> tasks) {
  child_list<void> list(tasks);
  group_state group(group_mode::all);
  co_await group_awaiter{group, list.bases.data(), list.bases.size()};
}
}  // namespace detail

/// when_all over a std::vector<task<T>>, passed with std::move (tasks are move-only; an lvalue
/// vector is a compile error saying so): task<std::vector<T>> with the results in order, or
/// task<void> for void tasks. Errors and cancellation as above.
template <class Tasks>
  requires detail::is_task_vector<std::remove_cvref_t<Tasks>>
auto when_all(Tasks&& tasks) {
  if constexpr (detail::is_movable_arg<Tasks>) {
    return detail::when_all_vector(std::move(tasks));
  } else {
    static_assert(detail::dependent_false<Tasks>,
                  "coloop::when_all: tasks are move-only; pass the vector with std::move(tasks)");
  }
}

}  // namespace coloop

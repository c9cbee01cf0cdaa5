#pragma once
// when_any: run tasks concurrently, keep the first to finish, cancel and join the rest.

#include <array>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include <coloop/detail/group.hpp>

namespace coloop {

namespace detail {
template <class Variant, class Children, std::size_t... I>
Variant take_winner(Children& children, std::size_t winner, std::index_sequence<I...>) {
  Variant out;
  (void)((I == winner ? (out.template emplace<I>(std::get<I>(children).take()), true) : false) ||
         ...);
  return out;
}
[[noreturn]] void throw_when_any_empty();
}  // namespace detail

/// Runs the tasks concurrently; the first to finish wins: its value is returned (the variant's
/// index says which; std::monostate for void) or its exception rethrown. The others are cancelled
/// and have finished before this returns. Cancelling the awaiting task cancels every child.
template <class... Ts>
task<std::variant<detail::non_void_t<Ts>...>> when_any(task<Ts>... tasks) {
  static_assert(sizeof...(Ts) > 0, "when_any needs at least one task");
  std::tuple children{detail::make_group_child(std::move(tasks))...};
  std::array<detail::group_child_promise_base*, sizeof...(Ts)> list =
      std::apply([](auto&... c) { return std::array{c.base()...}; }, children);
  detail::group_state group(detail::group_mode::any);
  co_await detail::group_awaiter{group, list.data(), list.size()};
  co_return detail::take_winner<std::variant<detail::non_void_t<Ts>...>>(
      children, group.winner(), std::index_sequence_for<Ts...>{});
}

namespace detail {
template <class T>
auto when_any_vector(std::vector<task<T>> tasks)
    -> task<std::conditional_t<std::is_void_v<T>, std::size_t, std::pair<std::size_t, T>>> {
  if (tasks.empty()) throw_when_any_empty();
  child_list<T> list(tasks);
  group_state group(group_mode::any);
  co_await group_awaiter{group, list.bases.data(), list.bases.size()};
  const std::size_t winner = group.winner();
  if constexpr (std::is_void_v<T>) {
    list.children[winner].take();
    co_return winner;
  } else {
    co_return std::pair<std::size_t, T>{winner, list.children[winner].take()};
  }
}
}  // namespace detail

/// when_any over a std::vector<task<T>>, passed with std::move (tasks are move-only; an lvalue
/// vector is a compile error saying so): the winner's index and value (just the index for void
/// tasks). An empty vector throws std::invalid_argument. Errors and cancellation as above.
template <class Tasks>
  requires detail::is_task_vector<std::remove_cvref_t<Tasks>>
auto when_any(Tasks&& tasks) {
  if constexpr (detail::is_movable_arg<Tasks>) {
    return detail::when_any_vector(std::move(tasks));
  } else {
    static_assert(detail::dependent_false<Tasks>,
                  "coloop::when_any: tasks are move-only; pass the vector with std::move(tasks)");
  }
}

}  // namespace coloop

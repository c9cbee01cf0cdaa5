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

/// when_all over a vector of tasks of one type: the results in order.
template <class T>
task<std::vector<T>> when_all(std::vector<task<T>> tasks) {
  detail::child_list<T> list(tasks);
  detail::group_state group(detail::group_mode::all);
  co_await detail::group_awaiter{group, list.bases.data(), list.bases.size()};
  std::vector<T> results;
  results.reserve(list.children.size());
  for (auto& c : list.children) results.push_back(c.take());
  co_return results;
}

/// when_all over a vector of void tasks.
inline task<void> when_all(std::vector<task<void>> tasks) {
  detail::child_list<void> list(tasks);
  detail::group_state group(detail::group_mode::all);
  co_await detail::group_awaiter{group, list.bases.data(), list.bases.size()};
}

}  // namespace coloop

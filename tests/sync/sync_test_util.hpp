#pragma once
// Helpers of the sync tests: an awaitable's error code, and a waiter whose coroutine is a no-op,
// for the "frame destroyed after the hand-off, before it resumed" cases (the posted no-op resumes
// nothing, so the awaiter can be destroyed in between without a dangling resumption).

#include <coloop/core/task.hpp>
#include <coroutine>
#include <system_error>
#include <utility>
#include <vector>

namespace coloop::test {

template <class Awaitable>
task<std::error_code> sync_error_of(Awaitable aw) {
  try {
    co_await std::move(aw);
  } catch (const std::system_error& e) {
    co_return e.code();
  }
  co_return std::error_code{};
}

/// Suspends `aw` as a foreign coroutine would, without running the fast path's budget logic:
/// true if it is now queued.
template <class Awaiter>
bool park_detached(Awaiter& aw) {
  if (aw.await_ready()) return false;
  return aw.await_suspend(std::noop_coroutine());
}

}  // namespace coloop::test

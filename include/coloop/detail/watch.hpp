#pragma once
// layer: runtime
// Watching spawned tasks without joining them (wait, as_completed, shield): each watched task
// gets a tiny watcher coroutine registered as its joiner with no cancel_state, so finishing it
// notifies the watch_set and cancelling the watcher's owner never reaches the task. The set
// (src/runtime/wait.cpp) holds a reference on each watched root until its watcher has run or
// been withdrawn, so a handle may be dropped meanwhile.

#include <coroutine>
#include <cstddef>
#include <optional>
#include <vector>

#include <coloop/detail/spawned.hpp>

namespace coloop::detail {

class watch_set;

enum class watch_outcome : unsigned char { ready, cancelled, timed_out };

/// Watches `roots` (nullptr: an empty handle, a std::logic_error naming `api` and the index).
/// Throws std::logic_error too for a handle another task awaits.
watch_set* watch_create(const std::vector<spawn_promise_base*>& roots, const char* api);
/// Withdraws the watchers still armed and lets go of the set.
void watch_destroy(watch_set* s) noexcept;
/// Whether `want` tasks have finished, or (`on_failure`) one failed.
bool watch_ready(watch_set& s, std::size_t want, bool on_failure) noexcept;
/// Suspends `waiter` until watch_ready(want, on_failure), a cancel of `cancel` (the waiter's
/// task) or of `timer` (wait's deadline); false when it need not suspend.
bool watch_suspend(watch_set& s, std::coroutine_handle<> waiter, cancel_state* cancel,
                   cancel_state* timer, std::size_t want, bool on_failure);
watch_outcome watch_resume(watch_set& s) noexcept;
/// The waiter's frame is destroyed while suspended.
void watch_abandon(watch_set& s) noexcept;
/// as_completed: the index whose task finished `n`-th (n < the number finished so far).
std::size_t watch_at(watch_set& s, std::size_t n) noexcept;
std::size_t watch_count(watch_set& s) noexcept;

struct [[nodiscard]] watch_awaiter {
  watch_set* s;
  cancel_state* timer;
  std::size_t want;
  bool on_failure;
  bool suspended = false;
  ~watch_awaiter() {
    if (suspended) watch_abandon(*s);
  }
  bool await_ready() const noexcept { return watch_ready(*s, want, on_failure); }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> waiter) {
    suspended = true;  // before publishing: a task may resume us from another worker
    if (watch_suspend(*s, waiter, cancel_state_of(waiter), timer, want, on_failure)) return true;
    suspended = false;
    return false;
  }
  watch_outcome await_resume() noexcept {
    suspended = false;
    return watch_resume(*s);
  }
};

}  // namespace coloop::detail

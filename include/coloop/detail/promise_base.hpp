#pragma once
// layer: core
// What every coloop coroutine promise shares: pooled frames, lazy start, the continuation it
// resumes when done, and the cancel_state of the task it runs in.

#include <coroutine>
#include <cstddef>
#include <type_traits>

#include <coloop/core/cancellation.hpp>
#include <coloop/core/frame_pool.hpp>
#include <coloop/detail/await_site.hpp>
#include <coloop/detail/scheduler.hpp>

namespace coloop::detail {

class promise_base {
 public:
  static void* operator new(std::size_t size) { return frame_allocate(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    frame_deallocate(frame, size);
  }

  std::suspend_always initial_suspend() const noexcept { return {}; }

  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      std::coroutine_handle<> next = self.promise().continuation_;
      return next ? transfer_to(next) : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  final_awaiter final_suspend() const noexcept { return {}; }

  cancel_state* cancel_ = nullptr;        // of the task this coroutine runs in
  std::coroutine_handle<> continuation_;  // resumed when this coroutine finishes
};

/// The start of a spawned task's join state (spawn_promise_base in detail/spawned.hpp), built by
/// spawn in the task's own promise: the task's cancel_state, and what its end does. A task runs
/// under its own cancel_state only when spawned, which is how its final suspend tells.
struct spawn_header {
  cancel_state own_cancel;
  std::coroutine_handle<> (*finish)(void* promise) noexcept;
};
static_assert(std::is_standard_layout_v<spawn_header>);
/// The room a task promise keeps for a join state (unconstructed unless spawned): spawned.hpp's
/// members, with the spawn site sharing a word with the task_extra pointer on g++ (clang's site
/// is 24 bytes, await_site.hpp).
inline constexpr std::size_t spawn_state_size = 120 + (sizeof(site) > 8 ? sizeof(site) : 0);

/// The cancel_state of the task a suspending coroutine runs in; nullptr for foreign coroutines.
template <class Promise>
cancel_state* cancel_state_of(std::coroutine_handle<Promise> h) noexcept {
  if constexpr (std::is_base_of_v<promise_base, Promise>) {
    return h.promise().cancel_;
  } else {
    return nullptr;
  }
}

}  // namespace coloop::detail

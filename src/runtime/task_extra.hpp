#pragma once
// What a spawned task keeps beyond its join state, allocated only when it is named or spawned in
// debug mode: its name and debug mode's per-task profile. Written by the thread running the task
// (the profile) or naming it, read by dumps on any thread: atomics, and the name under a mutex.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include <coloop/detail/spawned.hpp>

namespace coloop::detail {

struct task_extra {
  site spawned_at;                           // moved here from spawn_promise_base::info_
  std::string name;                          // guarded by task_names_mutex
  std::atomic<std::uint64_t> polls{0};       // debug mode: steps taken
  std::atomic<std::int64_t> busy_ns{0};      // debug mode: time spent running
  std::atomic<std::int64_t> suspended_at{0}; // debug mode: when its last step ended (ns)
  std::atomic<std::int64_t> ready_ns{0};     // debug mode: scheduling delay (woken, not run)
  /// Debug mode: the task's own spawn_header::finish, which debug mode's replaced (so that the
  /// end of a task is charged without a test on the common path).
  std::coroutine_handle<> (*finish)(void* promise) noexcept = nullptr;
};

/// Guards task_extra::name (set_name races with dumps on the runtime).
extern std::mutex task_names_mutex;

/// A task's id in dumps and reports: its join state's address, unique among live tasks.
inline std::uint64_t task_id(const spawn_promise_base& t) noexcept {
  return reinterpret_cast<std::uintptr_t>(&t);
}

/// "task 12 "conn 4" (spawned at file:line)": how reports and dumps name a task.
std::string describe_task(const spawn_promise_base& t);

/// The debug mode accounting of a scheduler step (runtime/debug_mode.cpp), beginning at `now`
/// (monotonic ns, read by the scheduler), for a step whose work was queued `ready_ns` before it:
/// charged as scheduling delay to the first task the step charges (the task whose coroutine it
/// resumes, or a spawned task's first step).
void debug_step_begin(std::int64_t now, std::int64_t ready_ns) noexcept;
/// After the step: reports a callback (not a task: those report as they suspend) that was slow.
void debug_step_end(const context& ctx) noexcept;
/// A detached task failed and nobody retrieved its exception: names it before the handler runs.
void debug_unretrieved(const spawn_promise_base& t) noexcept;
/// Spawning in debug mode: the task gets its profile, and its end is charged to it.
void debug_task_start(spawn_promise_base& t);

}  // namespace coloop::detail

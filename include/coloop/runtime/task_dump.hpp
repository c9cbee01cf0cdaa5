#pragma once
// Seeing the tasks of a loop or runtime (asyncio.all_tasks, tokio's task dumps): each live
// spawned task with its id, name, spawn site, state and async stack trace, and in debug mode its
// profile. docs/debugging.md describes what is shown and what it costs.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include <coloop/runtime/loop_options.hpp>

namespace coloop {

/// A place in a task's async stack trace: a coroutine function and the file:line of its
/// co_await, or a spawn call.
struct stack_frame {
  std::string function;  // as the compiler spells it: g++ gives the signature, clang the name
  std::string file;
  unsigned line = 0;
};

enum class task_state {
  not_started,  ///< spawned, its first step not taken yet
  running,      ///< running now (the task asking, or one on another worker)
  suspended,    ///< suspended in a co_await, waiting for what it awaits
  /// suspended, but already woken: its resumption is queued on its scheduler, waiting for its
  /// turn (seen in the scheduler's queues at dump time; see docs/debugging.md for the limits)
  ready,
  /// runtime: a worker did not pause for the dump within a second (stuck in a long step), so
  /// no task's stack was read (it could be changing under the reader)
  unknown,
};
/// "not started", "running", "suspended", "ready" or "unknown".
std::string_view to_string(task_state s) noexcept;

/// One live task, as all_tasks() saw it.
struct task_info {
  std::uint64_t id = 0;  ///< unique in the process
  std::string name;      ///< spawn_options::name or join_handle::set_name; "" if unnamed
  stack_frame spawned_at;  ///< the spawn call (function: its caller); empty for spawn(fn, args...)
  task_state state = task_state::not_started;
  /// The awaitable type of the innermost co_await when suspended ("coloop::detail::sleep_awaiter"
  /// ...), or when ready (what it was waiting on), else "".
  std::string waiting_on;
  /// Root first: the task's coroutine, then each task it awaits, down to the innermost, each at
  /// its current (or, while running, last) co_await. Empty before the first co_await.
  std::vector<stack_frame> stack;
  // Debug mode only (loop_options::debug or COLOOP_DEBUG=1); zero otherwise.
  std::uint64_t polls = 0;  ///< steps taken (resume to suspend)
  duration busy{0};         ///< time spent running
  duration waiting_for{0};  ///< since its last step ended, when suspended or ready
  /// Scheduling delay: time spent woken but not yet running (ready -> running), summed over its
  /// steps, from the start of the step that woke it. On the runtime, only for the steps a worker
  /// takes from its own LIFO slot or ring (docs/debugging.md).
  duration scheduling_delay{0};
};

/// Every live spawned task of the event loop or runtime running on this thread (from one of its
/// tasks or callbacks). On the runtime the other workers pause between steps while the tasks are
/// read; if one stays in its step for a second, every task is listed with state `unknown` and no
/// stack. Throws std::logic_error when no loop runs on this thread.
std::vector<task_info> all_tasks();
/// Prints all_tasks() to `out`, one block per task with its stack, then the busiest tasks by name
/// (debug mode). Same conditions as all_tasks().
void dump_tasks(std::ostream& out);
/// Prints `tasks` as dump_tasks does.
void write_tasks(std::ostream& out, const std::vector<task_info>& tasks);

}  // namespace coloop

#pragma once
// Reading one spawned task into a task_info (task_dump.cpp), for the schedulers' collect_tasks.

#include <coroutine>
#include <span>
#include <vector>

#include <coloop/detail/spawned.hpp>
#include <coloop/runtime/task_dump.hpp>

namespace coloop::detail {

/// The coroutines a scheduler has queued to resume (woken, waiting for their turn), gathered at
/// dump time from its queues: a task whose innermost suspended coroutine is one of them is
/// `ready`. Gathering reads the queues only, so the wake paths pay nothing for it.
class queued_frames {
 public:
  /// A queued coroutine frame (any coroutine: only task frames ever match); nullptr is ignored.
  void add(void* frame);
  void add(std::coroutine_handle<> h) { add(h.address()); }
  /// After the last add, before contains().
  void seal();
  bool contains(const await_record& r) const noexcept;

 private:
  std::vector<const await_record*> records_;  // of the queued frames; sorted by seal()
};

/// `t` as a dump shows it. Its coroutines must not run meanwhile: the event loop's own thread,
/// or the runtime with its workers paused and the registry locked.
/// `running`: the frames the schedulers' current steps resumed; a task with one of them in its
/// stack is running. `queued`: a suspended task whose innermost coroutine is queued is ready.
task_info snapshot_task(const spawn_promise_base& t, std::span<void* const> running,
                        const queued_frames& queued);
/// `t` without its records (state task_state::unknown), when a worker did not pause.
task_info snapshot_task_unread(const spawn_promise_base& t);

}  // namespace coloop::detail

#pragma once
// Reading one spawned task into a task_info (task_dump.cpp), for the schedulers' collect_tasks.

#include <span>

#include <coloop/detail/spawned.hpp>
#include <coloop/runtime/task_dump.hpp>

namespace coloop::detail {

/// `t` as a dump shows it. Its coroutines must not run meanwhile: the event loop's own thread,
/// or the runtime with its workers paused and the registry locked.
/// `running`: the frames the schedulers' current steps resumed; a task with one of them in its
/// stack is running.
task_info snapshot_task(const spawn_promise_base& t, std::span<void* const> running);
/// `t` without its records (state task_state::unknown), when a worker did not pause.
task_info snapshot_task_unread(const spawn_promise_base& t);

}  // namespace coloop::detail

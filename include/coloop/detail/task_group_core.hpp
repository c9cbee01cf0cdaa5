#pragma once
// layer: runtime
// task_group's machinery. A child is an ordinary spawned task whose join state also links it
// into its group (group_member); it leaves the group right after its task ends, before the
// join_handle sees it done, so the plain spawn path pays one null test for groups.
// The group's state (group_core, in src/runtime/task_group.cpp) is shared by the task_group
// object and its live children and freed by whichever lets go last; one mutex guards it, as
// children finish on any runtime worker.

#include <coroutine>
#include <cstddef>

#include <coloop/detail/spawned.hpp>

namespace coloop::detail {

class group_core;
class scheduler;

group_core* group_create();
/// Links `m` and starts its task on `loop`; throws std::logic_error if the group is joined or
/// cancelled (or the loop closed), leaving `m` unlinked.
void group_start(group_core& g, context& loop, group_member& m);
/// The child's task has ended (its outcome is in its join state): unlink, record a failure, wake
/// the joiner. `aborted`: the loop is closing and destroyed the task; wake nobody.
void group_leave(group_member& m, bool aborted) noexcept;
void group_cancel(group_core& g) noexcept;
std::size_t group_size(group_core& g) noexcept;
/// The task_group object lets go: cancels and reports unjoined children (see task_group).
void group_drop(group_core* g) noexcept;
/// False when nothing is left to wait for (the joiner does not suspend).
bool group_join_suspend(group_core& g, std::coroutine_handle<> joiner, cancel_state* cancel);
void group_join_abandon(group_core& g) noexcept;
/// Throws exception_group, or cancelled_error if the joiner was cancelled.
void group_join_resume(group_core& g);
/// Throws std::logic_error if join() is already awaited or has finished.
void group_join_check(group_core& g);

}  // namespace coloop::detail

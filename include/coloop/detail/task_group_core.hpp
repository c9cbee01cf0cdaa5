#pragma once
// layer: runtime
// task_group's machinery. A child is an ordinary spawned task whose root promise also links it
// into its group (group_member); the root leaves the group right after the user's task ends,
// before the join_handle sees it done, so the plain spawn path pays nothing for groups.
// The group's state (group_core, in src/runtime/task_group.cpp) is shared by the task_group
// object and its live children and freed by whichever lets go last; one mutex guards it, as
// children finish on any runtime worker.

#include <coroutine>
#include <utility>

#include <coloop/detail/spawned.hpp>

namespace coloop::detail {

class group_core;
class scheduler;

/// A child's link in its group's list (the part of the root promise the group touches).
struct group_member {
  group_core* group_ = nullptr;
  group_member* gprev_ = nullptr;
  group_member* gnext_ = nullptr;
  spawn_promise_base* root_ = nullptr;
};

group_core* group_create();
/// Links `m` and starts its root on `loop`; throws std::logic_error if the group is joined or
/// cancelled (or the loop closed), leaving `m` unlinked.
void group_start(group_core& g, context& loop, group_member& m);
/// The child's task has ended (its outcome is in the root): unlink, record a failure, wake the
/// joiner. `aborted`: the loop is closing and destroyed the task; wake nobody.
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

template <class T>
class group_spawned_root;

template <class T>
class group_spawn_promise final : public spawn_promise<T>, public group_member {
 public:
  group_spawned_root<T> get_return_object() noexcept;
  void abort() noexcept override {
    spawn_promise<T>::abort();
    group_leave(*this, true);
  }
};

template <class T>
class group_spawned_root {
 public:
  using promise_type = group_spawn_promise<T>;
  std::coroutine_handle<promise_type> handle;
};

template <class T>
group_spawned_root<T> group_spawn_promise<T>::get_return_object() noexcept {
  auto h = std::coroutine_handle<group_spawn_promise>::from_promise(*this);
  this->self_ = h;
  root_ = this;
  return {h};
}

/// run_inner for a group child: the user's task, then leaving the group.
template <class T>
struct group_run_inner {
  group_spawn_promise<T>* p = nullptr;
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(
      std::coroutine_handle<group_spawn_promise<T>> root) noexcept {
    p = &root.promise();
    auto& inner = p->inner_.handle().promise();
    inner.continuation_ = root;
    inner.cancel_ = &p->own_cancel_;
    return transfer_to(p->inner_.handle());
  }
  void await_resume() const noexcept {
    p->collect();
    group_leave(*p, false);
  }
};

template <class T>
group_spawned_root<T> group_spawn_root() {
  co_await group_run_inner<T>{};
}

}  // namespace coloop::detail

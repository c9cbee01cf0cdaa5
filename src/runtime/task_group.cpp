// task_group's shared state (see include/coloop/detail/task_group_core.hpp).
//
// Invariants, all under `mutex` (a spin lock): a member is linked from group_start until
// group_leave, so its frame is alive while linked (the task's own reference is dropped only after
// it left) and cancelling walks the list safely. The state is freed by the
// last of {the task_group object, the live members} to let go, decided under the lock.
// The joiner is resumed by posting (never inline), after the lock is released; it disarms its
// cancel slot itself in join_resume, so a cancel racing the last child's departure finds the
// slot alive (the slot is this state, kept alive by the joiner's group object).
// cancel_state::request is called under the lock: the on_cancel it runs only takes locks of the
// operations below the child (timers, other handles), never a group's that encloses it.

#include <coloop/runtime/task_group.hpp>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/cpu_relax.hpp"
#include "runtime/context.hpp"
#include "runtime/task_registry.hpp"

namespace coloop::detail {

namespace {
/// Held for a few instructions per child (link, unlink): cheaper than a mutex uncontended, which
/// is the common case. Yields after a short spin, as a preempted holder may hold it a while.
class spin_lock {
 public:
  void lock() noexcept {
    // acquire: what the previous holder wrote under the lock is visible once we hold it.
    while (locked_.exchange(true, std::memory_order_acquire)) {
      // relaxed: only a hint to retry the exchange, which does the acquiring.
      for (int spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 64) {
          cpu_relax();
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  // release: publishes what we wrote under the lock to the next holder.
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};
}  // namespace

// The group_* functions below are its interface (detail/task_group_core.hpp); the fields are
// theirs.
class group_core : public cancel_slot {
 public:
  group_core() noexcept : cancel_slot{&on_joiner_cancel} {}

  static cancel_outcome on_joiner_cancel(cancel_slot* self) noexcept {
    auto* g = static_cast<group_core*>(self);
    std::lock_guard lock(g->mutex);
    g->joiner_cancelled = true;
    g->cancel_locked();
    return cancel_outcome::passed_on();  // the joiner resumes when the last child leaves
  }
  void cancel_locked() noexcept {
    cancelling = true;
    live.cancel_all();
  }

  spin_lock mutex;
  linked_tasks<group_member, &group_member::gprev_, &group_member::gnext_> live;
  std::vector<std::exception_ptr> failures;
  std::coroutine_handle<> joiner;
  scheduler* joiner_on = nullptr;
  cancel_state* joiner_cancel = nullptr;
  context* loop = nullptr;
  bool cancelling = false;
  bool joiner_cancelled = false;
  bool joined = false;
  bool dropped = false;
};

group_core* group_create() { return new group_core(); }

void group_start(group_core& g, context& loop, group_member& m) {
  {
    std::lock_guard lock(g.mutex);
    if (g.joined) throw std::logic_error("coloop::task_group::spawn: the group was already joined");
    if (g.cancelling) {
      throw std::logic_error(
          "coloop::task_group::spawn: the group is cancelled (cancel(), a child's failure or "
          "the joiner's cancellation)");
    }
    m.group_ = &g;
    g.live.add(m);
    g.loop = &loop;
  }
  try {
    start_spawned(loop, static_cast<spawn_promise_base&>(m));
  } catch (...) {
    std::lock_guard lock(g.mutex);
    g.live.remove(m);
    throw;
  }
}

void group_leave(group_member& m, bool aborted) noexcept {
  group_core& g = *m.group_;
  spawn_promise_base& root = static_cast<spawn_promise_base&>(m);
  std::exception_ptr failure;
  if (root.error_ && !is_cancellation(root.error_)) {
    failure = root.error_;
    root.error_observed_ = true;  // the group reports it: the handle's detach must not
  }
  std::coroutine_handle<> joiner;
  scheduler* on = nullptr;
  bool report = false;
  bool free = false;
  {
    std::lock_guard lock(g.mutex);
    g.live.remove(m);
    if (failure) {
      if (g.dropped || g.joiner_cancelled) {
        report = true;  // nobody will join: the loop's handler hears of it
      } else {
        g.failures.push_back(failure);
      }
      g.cancel_locked();
    }
    if (g.live.empty() && g.joiner && !aborted) {
      joiner = std::exchange(g.joiner, {});
      on = g.joiner_on;
    }
    free = g.dropped && g.live.empty();
  }
  if (report && root.ctx_ != nullptr) root.ctx_->report(failure);
  if (joiner) post_from_any_thread(on, joiner);
  if (free) delete &g;
}

void group_cancel(group_core& g) noexcept {
  std::lock_guard lock(g.mutex);
  g.cancel_locked();
}

std::size_t group_size(group_core& g) noexcept {
  std::lock_guard lock(g.mutex);
  return g.live.size();
}

void group_drop(group_core* g) noexcept {
  std::size_t abandoned = 0;
  std::vector<std::exception_ptr> unreported;
  context* loop = nullptr;
  bool free = false;
  {
    std::lock_guard lock(g->mutex);
    g->dropped = true;
    if (!g->joined) {
      abandoned = g->live.size();
      unreported = std::move(g->failures);
      if (!g->live.empty()) g->cancel_locked();
    }
    loop = g->loop;
    free = g->live.empty();
  }
  if (loop != nullptr) {
    if (abandoned > 0) {
      loop->report(std::make_exception_ptr(std::logic_error(
          "coloop::task_group destroyed without join() while " + std::to_string(abandoned) +
          " children were running: they were cancelled and left to the loop (co_await "
          "g.join() before the group goes out of scope)")));
    }
    for (auto& e : unreported) loop->report(e);
  }
  if (free) delete g;
}

void group_join_check(group_core& g) {
  std::lock_guard lock(g.mutex);
  if (g.joiner) throw std::logic_error("coloop::task_group::join: already awaited by another task");
  if (g.joined) throw std::logic_error("coloop::task_group::join: the group was already joined");
}

bool group_join_suspend(group_core& g, std::coroutine_handle<> joiner, cancel_state* cancel) {
  std::lock_guard lock(g.mutex);
  if (g.live.empty()) {
    g.joined = true;
    return false;
  }
  g.joiner = joiner;
  g.joiner_on = current_scheduler();
  g.joiner_cancel = cancel;
  if (cancel != nullptr && !cancel->arm(&g)) {
    // Cancelled before it suspended: the children go first, then join throws.
    g.joiner_cancelled = true;
    g.joiner_cancel = nullptr;
    g.cancel_locked();
  }
  return true;
}

void group_join_abandon(group_core& g) noexcept {
  cancel_state* cancel = nullptr;
  {
    std::lock_guard lock(g.mutex);
    g.joiner = {};
    cancel = std::exchange(g.joiner_cancel, nullptr);
  }
  if (cancel != nullptr) cancel->disarm();
}

void group_join_resume(group_core& g) {
  // The joiner was taken by whoever posted it: this disarms its slot (a consumed one: a no-op).
  group_join_abandon(g);
  std::vector<std::exception_ptr> failures;
  bool cancelled = false;
  {
    std::lock_guard lock(g.mutex);
    g.joined = true;
    failures = std::move(g.failures);
    cancelled = g.joiner_cancelled;
  }
  if (cancelled) {
    for (auto& e : failures) g.loop->report(e);
    throw cancelled_error();
  }
  if (!failures.empty()) throw exception_group(std::move(failures));
}

}  // namespace coloop::detail

namespace coloop {
void task_group::throw_moved_from() {
  throw std::logic_error("coloop::task_group: used after being moved from");
}
}  // namespace coloop

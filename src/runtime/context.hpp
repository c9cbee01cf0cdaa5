#pragma once
// The scheduler running this thread's tasks, as the awaitables and the layers above see it:
// its queues (scheduler), its driver and its task bookkeeping, whether it is an event loop
// (current_thread/loop_scheduler) or a runtime worker (multi_thread/runtime_core). Nothing
// that goes through it asks which one it is.

#include <bit>
#include <cstdint>
#include <exception>
#include <functional>
#include <vector>

#include <coloop/runtime/task_dump.hpp>

#include <coloop/detail/scheduler.hpp>

#include "runtime/driver/driver.hpp"

namespace coloop::detail {

class spawn_promise_base;

class context : public scheduler {
 public:
  /// The driver's reactor, timers and clock.
  driver& drv() const noexcept { return *driver_; }
  /// Registers a spawned task (what close/shutdown cancels and destroys) and queues its first
  /// step, where join_start can find it; any thread of it.
  virtual void start(spawn_promise_base& t) noexcept = 0;
  /// Unregisters `t`, which has ended, and returns t.hand_over() (a tail call, so that
  /// spawn_promise_base::finished saves no registers).
  virtual std::coroutine_handle<> end_task(spawn_promise_base& t) noexcept = 0;
  /// spawn_promise_base::join_await for a task not taken yet: if its queued first step can be
  /// withdrawn, the joiner runs it now (join_help), else it waits for the end (join_wait). Here,
  /// not in join_await, so that each is a tail call. On a thread that does not run the context's
  /// tasks it throws (spawn_promise_base::throw_joined_elsewhere), before anything is published:
  /// the end would resume the joiner on the task's thread.
  virtual std::coroutine_handle<> join_start(spawn_promise_base& t, std::coroutine_handle<> joiner,
                                             cancel_state* joiner_cancel) = 0;
  /// Appends a snapshot of every live spawned task (coloop::all_tasks): the event loop's thread,
  /// or any thread of the runtime.
  virtual void collect_tasks(std::vector<task_info>& out) = 0;
  /// COLOOP_DUMP_ON's signal arrived: log a task dump (called on its watcher thread).
  virtual void dump_on_signal() = 0;
  /// Closed: no new task may start (the event loop after close(), the runtime at its end).
  bool closed() const noexcept { return flags_.closed; }
  /// Debug mode (loop_options::debug or COLOOP_DEBUG=1): the reports of runtime/debug_mode.cpp.
  bool debug() const noexcept { return flags_.debug; }
  /// closed() or debug(): spawn's one test before its slow path (a 2-byte load).
  bool closed_or_debug() const noexcept { return std::bit_cast<std::uint16_t>(flags_) != 0; }

  /// Hands a detached task's exception to the handler (never throws).
  void report(std::exception_ptr e) noexcept;
  /// Receives the exceptions of detached tasks; empty: log them (error level).
  std::function<void(std::exception_ptr)> exception_handler;
  std::int64_t slow_step_ns = 100'000'000;  // loop_options::slow_callback_duration

 protected:
  explicit context(driver& d) noexcept : driver_(&d) {}
  ~context() = default;
  void set_debug(bool on) noexcept { flags_.debug = on; }
  void set_closed() noexcept { flags_.closed = true; }

 private:
  struct state_flags {
    bool closed = false;
    bool debug = false;
  };
  static_assert(sizeof(state_flags) == sizeof(std::uint16_t));
  state_flags flags_;
  driver* driver_;
};

/// The context running on this thread (what current_context returns), or null.
extern constinit thread_local context* this_context;
/// Makes `c` the one current_context() returns on this thread (the event loop in run(), a
/// runtime worker for its life); returns the previous one.
context* set_current_context(context* c) noexcept;

/// The context of this thread; throws std::logic_error naming `api` when there is none.
context& current_context(const char* api);
/// The context of this thread, or nullptr.
inline context* current_context_or_null() noexcept { return this_context; }
/// The driver of this thread's context; throws as current_context.
inline driver& current_driver(const char* api) { return current_context(api).drv(); }

/// The reactor of the event loop (or runtime driver) running on this thread; nullptr on any
/// other thread. What the fs layer asks whether the backend runs file operations itself.
reactor* current_reactor() noexcept;

/// Throws std::logic_error naming `api` when no event loop (or runtime worker) runs on this thread.
void require_running_loop(const char* api);

}  // namespace coloop::detail

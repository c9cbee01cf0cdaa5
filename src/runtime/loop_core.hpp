#pragma once
// The event loop's engine (private). event_loop is its public face; awaitables reach it through
// current_loop_core().

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <coloop/detail/callback.hpp>
#include <coloop/detail/scheduler.hpp>
#include <coloop/runtime/loop_options.hpp>

#include "runtime/current_thread/ready_queue.hpp"
#include "runtime/driver/reactor.hpp"
#include "runtime/driver/timer_entry.hpp"
#include "runtime/driver/timer_wheel.hpp"
#include "runtime/task_registry.hpp"

namespace coloop::detail {

/// On an event_loop it runs everything on one thread. On the multi-threaded runtime (`host` set)
/// it is the shared driver: the runtime's workers run the tasks (post goes to the host), while
/// timers, the reactor and the task registry here are shared under locks, and the worker that
/// parks polls them through drive().
class loop_core final : public scheduler {
 public:
  explicit loop_core(const loop_options& options, scheduler* host = nullptr);
  ~loop_core();
  loop_core(const loop_core&) = delete;
  loop_core& operator=(const loop_core&) = delete;

  // scheduler
  void post(std::coroutine_handle<> h) noexcept override;
  void post_threadsafe(std::coroutine_handle<> h) override {
    if (host_ != nullptr) {
      host_->post_threadsafe(h);
    } else {
      push_remote(callback::resume(h));
    }
  }
  void post_yield(std::coroutine_handle<> h) noexcept override {
    if (host_ != nullptr) {
      host_->post_yield(h);
    } else {
      post(h);  // the ready queue is FIFO already
    }
  }
  bool shared() const noexcept { return host_ != nullptr; }

  void push_ready(callback&& cb) { ready_.push(std::move(cb)); }
  /// Any thread; throws std::system_error(errc::closed) once the loop is closed.
  void push_remote(callback&& cb);

  /// Monotonic now in ns (the manual clock when the loop has one).
  std::int64_t now() const noexcept;
  /// The awaitables' timers (sleep, wait_for). Locked on the runtime, where inserting a deadline
  /// earlier than the one the driver sleeps towards wakes it.
  /// With a cancel_state, also arms `slot` on it in the same step under the timer lock, so neither
  /// the timer can fire nor a canceller find the slot before both are done. False (nothing
  /// inserted) when a cancel was pending.
  bool insert_timer(timer_node& n, cancel_state* cancel = nullptr, cancel_slot* slot = nullptr);
  void remove_timer(timer_node& n) noexcept;
  /// Registers an fd with the reactor (on the runtime: under the driver lock).
  fd_entry* register_fd(int fd);
  void deregister_fd(fd_entry* e) noexcept;
  void advance(std::int64_t ns);
  bool manual_clock() const noexcept { return manual_clock_; }

  timer_wheel& timers() noexcept { return timers_; }
  timer_entry* add_timer(std::int64_t deadline, callback&& fn);
  void cancel_timer(timer_entry* e) noexcept;
  void run_timer(timer_entry* e);
  reactor& io() noexcept { return *reactor_; }
  /// The reactor's name ("epoll", "libuv", ...); still valid after close().
  const char* backend_name() const noexcept { return backend_name_; }
  void add_task(spawn_promise_base& t) noexcept;
  void remove_task(spawn_promise_base& t) noexcept;
  std::size_t live_tasks() noexcept;
  /// Requests cancellation of every live task.
  void cancel_all_tasks() noexcept;
  /// Runtime: blocks the calling thread until no spawned task is live.
  void wait_until_no_tasks() noexcept;

  /// The one poll of the event loop's turn and of the runtime's parked worker (one thread at a
  /// time: see multi_thread/runtime.cpp). Polls I/O (blocking up to the next timer when
  /// `may_block`, until wake()), moves cross-thread callbacks in and fires due timers; with the
  /// manual clock and `may_block`, jumps to the next timer if nothing is ready.
  /// Returns whether anything happened (events or timers).
  bool drive(bool may_block);
  /// Interrupts a blocking drive() from any thread.
  void wake_driver() noexcept { reactor_->wake(); }
  /// Runtime with the manual clock: virtual time may only jump while someone waits for the
  /// tasks (a block_on, shutdown's wait), as an event loop's moves only inside run(). Counted.
  void let_clock_jump(bool on) noexcept;
  bool tasks_empty() const noexcept { return tasks_.empty(); }

  /// Runs turns until `done(arg)` is true (checked between callbacks) or stop() is called.
  void run(bool (*done)(const void*), const void* arg);
  void stop() noexcept { stop_requested_ = true; }
  void close();
  bool closed() const noexcept { return closed_; }
  bool running() const noexcept { return running_; }

  /// Hands a detached task's exception to the handler (never throws).
  void report(std::exception_ptr e) noexcept;
  std::function<void(std::exception_ptr)> exception_handler;

 private:
  void turn(bool (*done)(const void*), const void* arg);
  void drain_remote();

  bool manual_clock_;
  std::atomic<std::int64_t> manual_now_{0};
  ready_queue ready_;
  timer_wheel timers_;
  timer_entry_pool timer_entries_;
  std::unique_ptr<reactor> reactor_;
  const char* backend_name_;
  task_registry tasks_;                // event_loop
  shared_task_registry shared_tasks_;  // runtime

  std::mutex remote_mutex_;
  std::vector<callback> remote_;       // guarded by remote_mutex_
  std::vector<callback> remote_spare_;  // loop thread: swapped with remote_ to drain it
  bool remote_closed_ = false;         // guarded by remote_mutex_
  std::atomic<bool> remote_pending_{false};

  scheduler* const host_;
  std::recursive_mutex timer_mutex_;  // runtime: fire callbacks insert and remove timers
  std::mutex driver_mutex_;           // runtime: held by drive() and by fd (de)registration
  std::atomic<int> driver_waiters_{0};
  std::atomic<std::int64_t> driver_deadline_{0};  // what a blocked drive() waits for
  std::atomic<int> clock_jumpers_{0};             // runtime: see let_clock_jump

  bool stop_requested_ = false;
  bool running_ = false;
  bool closed_ = false;
};

/// Makes `loop` the one current_loop_core() returns on this thread for the scope (runtime
/// workers; the event loop sets it in run()).
class loop_core_scope {
 public:
  explicit loop_core_scope(loop_core* loop) noexcept;
  ~loop_core_scope();
  loop_core_scope(const loop_core_scope&) = delete;
  loop_core_scope& operator=(const loop_core_scope&) = delete;

 private:
  loop_core* saved_;
};

/// The loop running on this thread; throws std::logic_error naming `api` when there is none.
loop_core& current_loop_core(const char* api);
/// The loop running on this thread, or nullptr.
loop_core* current_loop_core_or_null() noexcept;

}  // namespace coloop::detail

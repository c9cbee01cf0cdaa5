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

#include "runtime/reactor.hpp"
#include "runtime/ready_queue.hpp"
#include "runtime/task_registry.hpp"
#include "runtime/timer_entry.hpp"
#include "runtime/timer_wheel.hpp"

namespace coloop::detail {

class loop_core final : public scheduler {
 public:
  explicit loop_core(const loop_options& options);
  ~loop_core();
  loop_core(const loop_core&) = delete;
  loop_core& operator=(const loop_core&) = delete;

  // scheduler
  void post(std::coroutine_handle<> h) noexcept override;
  void post_threadsafe(std::coroutine_handle<> h) override { push_remote(callback::resume(h)); }

  void push_ready(callback&& cb) { ready_.push(std::move(cb)); }
  /// Any thread; throws std::system_error(errc::closed) once the loop is closed.
  void push_remote(callback&& cb);

  /// Monotonic now in ns (the manual clock when the loop has one).
  std::int64_t now() const noexcept;
  void advance(std::int64_t ns);
  bool manual_clock() const noexcept { return manual_clock_; }

  timer_wheel& timers() noexcept { return timers_; }
  timer_entry* add_timer(std::int64_t deadline, callback&& fn);
  void cancel_timer(timer_entry* e) noexcept;
  void run_timer(timer_entry* e);
  reactor& io() noexcept { return *reactor_; }
  /// The reactor's name ("epoll", "libuv", ...); still valid after close().
  const char* backend_name() const noexcept { return backend_name_; }
  task_registry& tasks() noexcept { return tasks_; }
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
  void wait_for_events();

  bool manual_clock_;
  std::int64_t manual_now_ = 0;
  ready_queue ready_;
  timer_wheel timers_;
  timer_entry_pool timer_entries_;
  std::unique_ptr<reactor> reactor_;
  const char* backend_name_;
  task_registry tasks_;

  std::mutex remote_mutex_;
  std::vector<callback> remote_;       // guarded by remote_mutex_
  std::vector<callback> remote_spare_;  // loop thread: swapped with remote_ to drain it
  bool remote_closed_ = false;         // guarded by remote_mutex_
  std::atomic<bool> remote_pending_{false};

  bool stop_requested_ = false;
  bool running_ = false;
  bool closed_ = false;
};

/// The loop running on this thread; throws std::logic_error naming `api` when there is none.
loop_core& current_loop_core(const char* api);
/// The loop running on this thread, or nullptr.
loop_core* current_loop_core_or_null() noexcept;

}  // namespace coloop::detail

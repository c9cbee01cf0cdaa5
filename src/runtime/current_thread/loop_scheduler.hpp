#pragma once
// The event loop's scheduler (private; event_loop is its public face): the ready queue, the
// remote queue of call_soon_threadsafe, the task registry and call_later's timer entries, on a
// local_driver. Everything runs on one thread but push_remote.

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <mutex>
#include <vector>

#include <coloop/detail/callback.hpp>
#include <coloop/runtime/loop_options.hpp>

#include "runtime/context.hpp"
#include "runtime/current_thread/ready_queue.hpp"
#include "runtime/current_thread/timer_entry.hpp"
#include "runtime/driver/driver.hpp"
#include "runtime/task_registry.hpp"

namespace coloop::detail {

class loop_scheduler final : public context {
 public:
  explicit loop_scheduler(const loop_options& options);
  ~loop_scheduler();
  loop_scheduler(const loop_scheduler&) = delete;
  loop_scheduler& operator=(const loop_scheduler&) = delete;

  // scheduler
  void post(std::coroutine_handle<> h) noexcept override;
  void post_threadsafe(std::coroutine_handle<> h) override { push_remote(callback::resume(h)); }
  // post_yield: post(), the ready queue is FIFO already.

  // context
  void add_task(spawn_promise_base& t) noexcept override { tasks_.add(t); }
  void remove_task(spawn_promise_base& t) noexcept override { tasks_.remove(t); }

  local_driver& io_driver() noexcept { return driver_; }
  void push_ready(callback&& cb) { ready_.push(std::move(cb)); }
  /// Any thread; throws std::system_error(errc::closed) once the loop is closed.
  void push_remote(callback&& cb);

  timer_entry* add_timer(std::int64_t deadline, callback&& fn);
  void cancel_timer(timer_entry* e) noexcept;

  std::size_t live_tasks() const noexcept { return tasks_.size(); }
  /// Requests cancellation of every live task.
  void cancel_all_tasks() noexcept { tasks_.cancel_all(); }

  /// Runs turns until `done(arg)` is true (checked between callbacks) or stop() is called.
  void run(bool (*done)(const void*), const void* arg);
  void stop() noexcept { stop_requested_ = true; }
  void close();
  bool running() const noexcept { return running_; }

 private:
  friend struct loop_work;
  void turn(bool (*done)(const void*), const void* arg);
  void drain_remote();
  void run_timer(timer_entry* e);

  local_driver driver_;  // first: outlives everything that refers to its wheel and reactor
  ready_queue ready_;
  timer_entry_pool timer_entries_;
  task_registry tasks_;

  std::mutex remote_mutex_;
  std::vector<callback> remote_;        // guarded by remote_mutex_
  std::vector<callback> remote_spare_;  // loop thread: swapped with remote_ to drain it
  bool remote_closed_ = false;          // guarded by remote_mutex_
  std::atomic<bool> remote_pending_{false};

  bool stop_requested_ = false;
  bool running_ = false;
};

}  // namespace coloop::detail

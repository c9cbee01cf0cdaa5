#pragma once
// runtime: the multi-threaded, work-stealing scheduler (tokio's multi-thread runtime). Tasks,
// timers, sockets, streams, cancellation and to_thread work on it as on an event_loop; a task
// may resume on any worker between two awaits.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <utility>

#include <coloop/core/task.hpp>
#include <coloop/detail/result.hpp>
#include <coloop/runtime/join_handle.hpp>
#include <coloop/runtime/loop_options.hpp>
#include <coloop/runtime/task_dump.hpp>

namespace coloop {

/// Counters of a runtime since it started (tokio's RuntimeMetrics), summed over the workers.
struct runtime_metrics {
  std::size_t workers = 0;
  std::uint64_t polls = 0;         // tasks resumed from a queue (not ones a joiner ran inline)
  std::uint64_t lifo_polls = 0;    // ... taken from a worker's LIFO slot (the task it just woke)
  std::uint64_t steals = 0;        // batches stolen from another worker's queue
  std::uint64_t parks = 0;         // times a worker went idle
  std::uint64_t driver_polls = 0;  // times a worker polled the shared I/O and timer driver
  std::size_t injected = 0;        // tasks waiting in the global inject queue now
  std::size_t live_tasks = 0;      // spawned tasks not finished
};

namespace detail {
namespace mt {
class runtime_core;
}

class context;

/// Wakes the thread blocked in runtime::block_on. set() touches no memory of the signal after
/// its store, so the waiter may destroy it as soon as it sees the store.
class block_signal {
 public:
  explicit block_signal(mt::runtime_core& rt) noexcept : rt_(&rt) {}
  /// The task began. From here until set(), a manual clock may jump while the task waits.
  void started() noexcept;
  void set() noexcept;
  void wait() noexcept;

 private:
  mt::runtime_core* rt_;
  std::atomic<unsigned> done_{0};
};

template <class T>
task<void> complete_and_signal(task<T> t, result<T>& out, block_signal& signal) {
  signal.started();
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(t);
      out.set_value();
    } else {
      out.set_value(co_await std::move(t));
    }
  } catch (...) {
    out.set_exception(std::current_exception());
  }
  signal.set();  // the caller may return and destroy `out` from here on
}
}  // namespace detail

/// A pool of worker threads running tasks. Construct it from any thread; block_on and spawn from
/// outside, spawn() (the free function) from its tasks. Destroying it shuts it down.
class runtime {
 public:
  /// `options.workers`: 0 means one per hardware thread; also manual_clock and schedule_seed.
  /// Throws std::invalid_argument for more than 1024 workers, std::system_error if the OS
  /// refuses threads or the reactor.
  explicit runtime(loop_options options = {});
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Runs `t` on the workers and blocks the calling thread until it finishes; returns its value
  /// or rethrows. Throws std::logic_error on a thread that runs tasks (a worker of any runtime,
  /// an event loop's) or after shutdown. With the manual clock, virtual time only moves while a
  /// block_on (or shutdown) waits, as an event_loop's only inside run().
  template <class T>
  T block_on(task<T> t, detail::site where = detail::site::here()) {
    check_outside("coloop::runtime::block_on");
    detail::result<T> out;
    detail::block_signal signal(*core_);
    task<void> wrapper = detail::complete_and_signal(std::move(t), out, signal);
    join_handle<void> h = detail::spawn_on(&ctx(), std::move(wrapper), where);
    signal.wait();
    wait_finished(h);  // the wrapper is past its last statement: let it leave the task count
    if constexpr (std::is_void_v<T> || std::is_reference_v<T>) {
      return out.get();
    } else {
      return std::move(out).get();
    }
  }
  /// Starts `t` on the runtime from any thread (it first runs on a worker soon after). Throws
  /// std::logic_error once shutdown has begun.
  template <class T>
  join_handle<T> spawn(task<T> t, spawn_options options = {},
                       detail::site where = detail::site::here()) {
    check_open("coloop::runtime::spawn");
    return detail::spawn_on(&ctx(), std::move(t), where, options.name);
  }

  /// 1. refuses new tasks from outside; 2. cancels every live task; 3. waits until they have all
  /// finished; 4. stops and joins the workers; 5. releases the reactor. Idempotent. Throws
  /// std::logic_error when called from one of its workers.
  void shutdown();

  std::size_t workers() const noexcept;
  /// Number of spawned tasks that have not finished.
  std::size_t live_tasks() const noexcept;
  /// Every live spawned task, as coloop::all_tasks() (task_dump.hpp). Any thread.
  std::vector<task_info> all_tasks() const;
  /// A snapshot of the counters (each exact, the set not atomic as a whole). Any thread.
  runtime_metrics metrics() const noexcept;
  /// Receives the exceptions of detached tasks, on whichever worker they end. The default logs
  /// them to stderr. Set it before spawning.
  void set_exception_handler(std::function<void(std::exception_ptr)> handler);
  /// The runtime whose worker runs the calling thread, or nullptr.
  static runtime* current() noexcept;

 private:
  detail::context& ctx() noexcept;
  static void wait_finished(const join_handle<void>& h) noexcept;
  void check_outside(const char* api) const;
  void check_open(const char* api) const;
  std::unique_ptr<detail::mt::runtime_core> core_;
};

}  // namespace coloop

#pragma once
// event_loop: a single-threaded scheduler of tasks, callbacks, timers and I/O (asyncio's loop).

#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>

#include <coloop/core/task.hpp>
#include <coloop/detail/callback.hpp>
#include <coloop/runtime/join_handle.hpp>
#include <coloop/runtime/loop_options.hpp>
#include <coloop/runtime/task_dump.hpp>
#include <coloop/runtime/timer_handle.hpp>

namespace coloop {

namespace detail {
class loop_scheduler;
}  // namespace detail

/// One thread's event loop. Every member is for the loop's own thread except
/// call_soon_threadsafe. Each turn runs the ready callbacks in FIFO order, then the expired
/// timers, then polls the OS for I/O (without blocking when work is ready).
class event_loop {
 public:
  explicit event_loop(loop_options options = {});
  ~event_loop();  // close()s
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  /// Runs `t` on this loop until it finishes and returns its value or rethrows. Throws
  /// std::logic_error if the loop is running or closed, std::runtime_error if stop() ends the
  /// run first (the task then keeps its state and can be resumed by another run).
  template <class T>
  T run_until_complete(task<T> t) {
    join_handle<T> h = create_task(std::move(t));
    run_until_done(h);
    if (!h.done()) throw_stopped_early();
    return sync_join(std::move(h));
  }
  /// Runs until stop() is called.
  void run_forever();
  /// Ends run_forever / run_until_complete after the current turn. Loop thread only.
  void stop() noexcept;
  /// Destroys what is left (unfinished tasks, pending callbacks and timers) and releases the OS
  /// resources. Idempotent. Throws std::logic_error while running.
  void close();
  bool is_closed() const noexcept;
  bool is_running() const noexcept;

  /// Runs `fn` on a later turn, after the callbacks already queued.
  void call_soon(detail::callback fn);
  /// Runs `fn` on this loop's thread; callable from any thread. Throws
  /// std::system_error(errc::closed) once the loop is closed.
  void call_soon_threadsafe(detail::callback fn);
  /// Runs `fn` once `delay` has passed (never earlier); cancellable through the handle.
  timer_handle call_later(duration delay, detail::callback fn);
  /// Runs `fn` once time() reaches `when` (never earlier); FIFO among equal deadlines.
  timer_handle call_at(time_point when, detail::callback fn);
  /// The loop's clock: monotonic, or the manual clock of loop_options::manual_clock.
  time_point time() const noexcept;
  /// Moves the manual clock forward (std::logic_error without loop_options::manual_clock).
  void advance_time(duration d);
  /// The I/O backend this loop waits on: "epoll", "kqueue", "io_uring" or "libuv" (what
  /// loop_options::backend resolved to). Valid for the loop's whole life, even once closed.
  std::string_view backend_name() const noexcept;

  /// Starts `t` on this loop (it runs on a later turn); see spawn().
  template <class T>
  join_handle<T> create_task(task<T> t, spawn_options options = {},
                             detail::site where = detail::site::here()) {
    if (debug_) [[unlikely]] check_loop_thread("coloop::event_loop::create_task");
    return detail::spawn_on(&ctx(), std::move(t), where, options.name);
  }

  /// Awaitable: runs `fn(args...)` on `pool` (a coloop::thread_pool, or any executor with
  /// run(fn, args...)) and resumes on this loop's thread with the value or exception:
  /// co_await pool.run(fn, args...) spelled the asyncio way. `fn` and `args` are decay-copied
  /// into the job at once and invoked as rvalues. Errors and cancellation as thread_pool::run;
  /// await it on this loop.
  template <class Executor, class F, class... Args>
  [[nodiscard]] auto run_in_executor(Executor& pool, F&& fn, Args&&... args) {
    return pool.run(std::forward<F>(fn), std::forward<Args>(args)...);
  }

  /// Receives the exceptions of detached tasks; the default logs them to stderr. Passing an
  /// empty function restores the default.
  void set_exception_handler(std::function<void(std::exception_ptr)> handler);
  /// Cancels every unfinished task and runs the loop until they have all finished (what
  /// coloop::run does before closing). Throws std::logic_error while running.
  void cancel_all_tasks();
  /// Number of spawned tasks that have not finished.
  std::size_t live_tasks() const noexcept;
  /// Every live spawned task of this loop, as coloop::all_tasks() (task_dump.hpp). Loop thread.
  std::vector<task_info> all_tasks() const;

  /// The loop running on this thread, or nullptr.
  static event_loop* current() noexcept;

 private:
  template <class T>
  void run_until_done(const join_handle<T>& h) {
    run_until([](const void* p) { return static_cast<const join_handle<T>*>(p)->done(); }, &h);
  }
  void run_until(bool (*done)(const void*), const void* arg);
  [[noreturn]] static void throw_stopped_early();
  template <class T>
  static T sync_join(join_handle<T> h) {
    // The task is done, so this coroutine completes at once.
    auto joiner = [](join_handle<T> jh) -> task<T> { co_return co_await std::move(jh); };
    task<T> t = joiner(std::move(h));
    t.handle().resume();
    auto& out = t.handle().promise().outcome();
    if constexpr (std::is_void_v<T> || std::is_reference_v<T>) {
      return out.get();
    } else {
      return std::move(out).get();
    }
  }

  detail::context& ctx() noexcept;
  void check_loop_thread(const char* api) const;
  std::unique_ptr<detail::loop_scheduler> core_;
  bool debug_;  // the loop's debug mode, read by the inline create_task
};

}  // namespace coloop

#pragma once
// thread_pool: threads for blocking calls (java.util.concurrent.ThreadPoolExecutor's knobs,
// asyncio's run_in_executor on the loop side).

#include <chrono>
#include <coloop/core/shutdown_mode.hpp>
#include <coloop/detail/executor_job.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace coloop {

/// What a full pool does with a new job.
enum class rejection_policy {
  abort,           ///< refuse it: std::system_error(errc::rejected)
  caller_runs,     ///< run it on the submitting thread, before submit/co_await returns
  discard_oldest,  ///< drop the oldest queued job (its awaiter gets errc::rejected), queue this one
};

// shutdown_mode (core/shutdown_mode.hpp): how shutdown treats the jobs still queued; running
// jobs always finish.

struct thread_pool_options {
  static constexpr std::size_t unbounded = std::numeric_limits<std::size_t>::max();

  /// Threads kept even when idle. Threads start on demand, never before the first job.
  std::size_t core_threads = 1;
  /// Most threads at once; 0 means min(32, hardware threads + 4) (Python's default).
  std::size_t max_threads = 0;
  /// A thread beyond core_threads exits after idling this long.
  std::chrono::nanoseconds keep_alive = std::chrono::seconds(10);
  /// Jobs that may wait for a thread (those an idle or new thread takes at once do not count);
  /// 0 is a direct hand-off.
  std::size_t queue_capacity = unbounded;
  rejection_policy on_full = rejection_policy::abort;
  /// Threads are named "<prefix>-<n>" (cut to the OS's 15 characters).
  std::string name_prefix = "coloop-pool";
  /// Polls of the queue an idle thread makes before it parks (a wake-up costs ~30 µs).
  unsigned spin_iterations = 2000;
};

/// A point-in-time view of a pool (counters since construction).
struct thread_pool_stats {
  std::size_t threads = 0;      ///< live threads
  std::size_t idle = 0;         ///< threads waiting for work
  std::size_t queued = 0;       ///< jobs waiting for a thread
  std::uint64_t completed = 0;  ///< jobs run to the end
  std::uint64_t rejected = 0;   ///< jobs refused or discarded by the rejection policy
};

/// A pool of threads running blocking functions. All members are thread-safe. The destructor
/// calls shutdown(drain).
class thread_pool {
 public:
  explicit thread_pool(thread_pool_options options = {});
  ~thread_pool();
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  /// Runs `fn` on a pool thread, fire-and-forget (an exception it throws is logged to stderr).
  /// Throws std::system_error: errc::rejected when full under `abort`, errc::closed after
  /// shutdown. Under caller_runs a full pool runs `fn` here before returning.
  template <class F>
  void submit(F&& fn) {
    using D = std::decay_t<F>;
    static_assert(std::is_invocable_v<D&>,
                  "thread_pool::submit: fn must be callable with no arguments");
    submit_job(new detail::submitted_job<D>(std::forward<F>(fn)));
  }

  /// Awaitable: runs `fn(args...)` on a pool thread and resumes the awaiting coroutine on its
  /// own scheduler with the value or exception. `fn` and `args` are decay-copied (moved when
  /// rvalues) into the job at once and invoked once, all as rvalues (std::thread's rule; std::ref
  /// passes a reference): pass data as arguments rather than capturing it in a lambda written
  /// inside the co_await (g++ 12 double-frees that temporary). Throws errc::rejected /
  /// errc::closed as submit does (from the co_await). Cancel-safe: a job not yet started is
  /// withdrawn (cancelled_error); a running one is waited for and its outcome delivered, the
  /// cancel applying at the next await. Await on a thread running an event loop or sync_wait
  /// (else std::logic_error).
  template <class F, class... Args>
  [[nodiscard]] auto run(F&& fn, Args&&... args) {
    using D = std::decay_t<F>;
    static_assert(std::is_invocable_v<D, std::decay_t<Args>...>,
                  "thread_pool::run: fn must be callable with rvalues of the decayed args");
    using R = std::invoke_result_t<D, std::decay_t<Args>...>;
    return detail::pool_op<R>(core_, new detail::awaited_fn_job<D, std::decay_t<Args>...>(
                                         std::forward<F>(fn), std::forward<Args>(args)...));
  }

  /// Stops accepting jobs, finishes (drain) or cancels the queued ones, and joins every thread.
  /// Idempotent; a second call, even concurrent, returns once the first is done. Called from a
  /// pool thread, that thread is detached instead of joined.
  void shutdown(shutdown_mode mode = shutdown_mode::drain);
  /// Whether shutdown has begun.
  bool is_shut_down() const noexcept;
  thread_pool_stats stats() const;
  const thread_pool_options& options() const noexcept { return options_; }

 private:
  void submit_job(detail::pool_job* job);

  thread_pool_options options_;
  std::shared_ptr<detail::pool_core> core_;
};

}  // namespace coloop

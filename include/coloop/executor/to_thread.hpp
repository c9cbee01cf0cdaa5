#pragma once
// to_thread: run a blocking function on the process-wide default thread_pool (asyncio.to_thread).

#include <coloop/executor/thread_pool.hpp>
#include <memory>
#include <utility>

namespace coloop {

/// The process-wide pool behind to_thread, created on first use: no core threads (every thread
/// exits after 10 s idle), max_threads min(32, hardware threads + 4), threads named
/// "coloop-io-<n>". Thread-safe. After shutdown_default_pool() the next call makes a new pool.
std::shared_ptr<thread_pool> default_thread_pool();

/// Shuts the default pool down (drain: its queued jobs still run) and joins its threads; a later
/// to_thread starts a fresh pool. Thread-safe; a no-op when no default pool exists. At process
/// exit the pool is shut down with shutdown_mode::cancel.
void shutdown_default_pool();

/// Awaitable: runs `fn(args...)` on the default pool and resumes on the awaiting coroutine's
/// scheduler with its value or exception. `fn` and `args` are decay-copied (moved when rvalues)
/// into the job before the co_await suspends and invoked once as rvalues, as std::thread does:
/// `co_await to_thread(read_file, path)` needs no capture. Cancel-safe as thread_pool::run
/// (withdrawn while queued, otherwise the outcome is delivered); errc::closed if
/// shutdown_default_pool() races it. g++ 12 mishandles a capturing lambda written inside the
/// co_await operand (double free): pass the data as args, or name the lambda first.
template <class F, class... Args>
[[nodiscard]] auto to_thread(F&& fn, Args&&... args) {
  return default_thread_pool()->run(std::forward<F>(fn), std::forward<Args>(args)...);
}

/// Awaitable: `pool.run(fn, args...)` (pool: a thread_pool or any executor with that run), in
/// asyncio's spelling and usable on the runtime too. Errors, cancellation and argument handling
/// as thread_pool::run.
template <class Executor, class F, class... Args>
[[nodiscard]] auto run_in_executor(Executor& pool, F&& fn, Args&&... args) {
  return pool.run(std::forward<F>(fn), std::forward<Args>(args)...);
}

}  // namespace coloop

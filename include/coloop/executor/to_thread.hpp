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

/// Awaitable: runs `fn` on the default pool and resumes on the awaiting coroutine's scheduler
/// with its value or exception. Cancel-safe as thread_pool::run (withdrawn while queued,
/// otherwise the outcome is delivered); errc::closed if shutdown_default_pool() races it.
/// g++ 12 bug: a lambda temporary written inside the co_await operand is copied bitwise, which
/// breaks captures such as std::string; name it first: `auto fn = [s] {...}; co_await
/// to_thread(std::move(fn));` (the same holds for thread_pool::run).
template <class F>
[[nodiscard]] auto to_thread(F&& fn) {
  return default_thread_pool()->run(std::forward<F>(fn));
}

}  // namespace coloop

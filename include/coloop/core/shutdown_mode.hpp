#pragma once
// shutdown_mode: what closing something does with the work still queued in it. In core because
// both the executor's thread_pool and the sync layer's queues take it.

namespace coloop {

/// How shutdown treats what is still queued (a thread pool's jobs, a queue's items).
enum class shutdown_mode {
  drain,   ///< keep it: a pool runs its jobs, a queue's get() still returns its items
  cancel,  ///< drop it: a pool's awaiters get cancelled_error, a queue's items are destroyed
};

}  // namespace coloop

// The process-wide default thread_pool behind to_thread (DESIGN.md §6).
//
// Invariants: the pool is made lazily under holder::mutex; callers get a shared_ptr, so a pool
// being shut down stays alive for an awaiter that still holds it (its run() then refuses with
// errc::closed, or its job drains).
//
// Shutdown (shutdown_default_pool, and the holder's destructor at exit):
//   1. take the pool out of the holder under the mutex (new callers make a fresh one);
//   2. outside the mutex, shut it down: drain for shutdown_default_pool, cancel at exit (no new
//      blocking work starts while the process is going away);
//   3. join its threads (thread_pool::shutdown); the pool object goes with the last shared_ptr.

#include <coloop/executor/to_thread.hpp>
#include <mutex>

namespace coloop {
namespace {

struct holder {
  std::mutex mutex;
  std::shared_ptr<thread_pool> pool;  // guarded by mutex

  std::shared_ptr<thread_pool> take() {
    std::lock_guard lock(mutex);
    return std::move(pool);
  }
  ~holder() {
    if (std::shared_ptr<thread_pool> p = take()) {
      try {
        p->shutdown(shutdown_mode::cancel);
      } catch (...) {  // a failed join at exit: nothing left to report to
      }
    }
  }
};

holder& the_holder() {
  static holder h;
  return h;
}

}  // namespace

std::shared_ptr<thread_pool> default_thread_pool() {
  holder& h = the_holder();
  std::lock_guard lock(h.mutex);
  if (!h.pool) {
    // No idle thread kept; the defaults' max_threads (min(32, hardware threads + 4)) and 10 s
    // keep-alive.
    h.pool = std::make_shared<thread_pool>(
        thread_pool_options{.core_threads = 0, .name_prefix = "coloop-io"});
  }
  return h.pool;
}

void shutdown_default_pool() {
  if (std::shared_ptr<thread_pool> p = the_holder().take()) p->shutdown(shutdown_mode::drain);
}

}  // namespace coloop

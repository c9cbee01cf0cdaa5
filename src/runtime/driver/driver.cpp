// The driver: the reactor, the timer wheel and the clock (driver.hpp), in its two builds.
//
// local_driver (the event loop's): one thread does everything, so nothing here locks; drive()
// blocks only when the loop has no ready callback and no remote one pending (the loop's
// remote_pending flag is set before wake(), and read with seq_cst right before the poll).
//
// shared_driver (the runtime's): exactly one worker at a time runs drive() (the runtime's
// driver_taken flag), under the driver lock; fd registration takes that lock too, waking a
// blocked poll first (driver_locks::lock_for_fd), and drive() lets such waiters in before it
// takes the lock again. The timer wheel is guarded by the timer lock, which drive() holds
// while it reads the next deadline and publishes it (driver_deadline), so an inserter of an
// earlier deadline sees it and wakes the poll, and while it fires timers (fire callbacks only
// post and request).
// With the manual clock, virtual time jumps only while someone waits for the tasks
// (let_clock_jump: block_on, shutdown), as an event loop's moves only inside run().
//
// Shutdown: the scheduler destroys its unfinished tasks first (their awaiters withdraw from the
// wheel and the reactor as their frames go), then release() frees the reactor and its fds.

#include "runtime/driver/driver.hpp"

#include <chrono>
#include <stdexcept>

namespace coloop::detail {

std::int64_t driver::monotonic_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

driver::driver(const loop_options& options, bool shared)
    : manual_clock_(options.manual_clock),
      manual_now_(monotonic_ns()),
      timers_(manual_now_.load()),
      reactor_(make_reactor(options.backend, shared)),
      backend_name_(reactor_->name()) {}

void driver::advance(std::int64_t ns) {
  if (!manual_clock_) {
    throw std::logic_error("event_loop::advance_time: the loop has no manual clock");
  }
  if (ns < 0) throw std::invalid_argument("event_loop::advance_time: negative duration");
  // Saturates at the end of the clock (wrapping would send it back before every deadline).
  // Relaxed: only event_loop advances it, on its own thread, which also does all the reading.
  manual_now_.store(deadline_after(ns), std::memory_order_relaxed);
}

void driver_locks::lock_for_fd(reactor& r) {
  if (driver_mutex.try_lock()) return;
  driver_waiters.fetch_add(1, std::memory_order_acq_rel);
  r.wake();
  driver_mutex.lock();
  driver_waiters.fetch_sub(1, std::memory_order_acq_rel);
}

}  // namespace coloop::detail

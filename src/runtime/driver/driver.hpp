#pragma once
// The driver (tokio's): the reactor, the timer wheel and the clock, and the one poll function
// that advances them. Both schedulers run on one: the event loop owns a local_driver, the
// runtime a shared_driver that its workers poll one at a time. Whether it is shared is its type,
// fixed when it is built; awaitables reach either through the `driver` base (context.hpp).

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>

#include <coloop/core/cancellation.hpp>
#include <coloop/runtime/loop_options.hpp>

#include "core/cpu_relax.hpp"
#include "core/monotonic.hpp"
#include "runtime/driver/driver_stats.hpp"
#include "runtime/driver/reactor.hpp"
#include "runtime/driver/timer_wheel.hpp"

namespace coloop::detail {

/// What awaitables ask of the driver of the scheduler they run on. The operations that lock on
/// a shared driver are virtual: the kind of driver is decided at construction, not per call.
class driver {  // not copyable: its timer_wheel is not
 public:
  /// Monotonic now in ns (the manual clock when there is one).
  std::int64_t now() const noexcept {
    return manual_clock_ ? manual_now_.load(std::memory_order_relaxed) : monotonic_ns();
  }
  /// now() + ns (ns >= 0), saturating at the end of the clock.
  std::int64_t deadline_after(std::int64_t ns) const noexcept {
    const std::int64_t t = now();
    return ns > no_timer - t ? no_timer : t + ns;
  }
  /// Moves the manual clock forward (the event loop's thread only). Throws std::logic_error
  /// without a manual clock, std::invalid_argument for a negative `ns`.
  void advance(std::int64_t ns);

  /// The awaitables' timers (sleep, wait_for). With a cancel_state, also arms `slot` on it in
  /// the same step (under the timer lock when shared), so neither the timer can fire nor a
  /// canceller find the slot before both are done. False (nothing inserted) when a cancel was
  /// pending. On a shared driver, a deadline earlier than the one it sleeps towards wakes it.
  virtual bool insert_timer(timer_node& n, cancel_state* cancel = nullptr,
                            cancel_slot* slot = nullptr) = 0;
  virtual void remove_timer(timer_node& n) noexcept = 0;
  /// Registers an fd with the reactor (shared: under the driver lock, waking a blocked poll).
  virtual fd_entry* register_fd(int fd) = 0;
  virtual void deregister_fd(fd_entry* e) noexcept = 0;

  reactor& io() noexcept { return *reactor_; }
  /// The reactor's name ("epoll", "libuv", ...); still valid after release().
  const char* backend_name() const noexcept { return backend_name_; }
  /// Interrupts a blocking drive() from any thread.
  void wake() noexcept { reactor_->wake(); }
  timer_wheel& timers() noexcept { return timers_; }
  /// Figures for metrics; the loop id is also the log origin's.
  driver_stats& stats() noexcept { return stats_; }
  const timer_wheel& timers() const noexcept { return timers_; }
  /// Releases the reactor (closes its fds). After the scheduler destroyed its tasks.
  void release() noexcept { reactor_.reset(); }
  /// Debug mode, right before release(): logs the fds still registered (a handle leaked past
  /// its scheduler), `closing` naming the event ("the event loop closed"). Nothing when none.
  void report_open_fds(const char* closing) const noexcept;

  /// write_prometheus's view of a driver (registered for the driver's life).
  static void collect_driver(const void* self, metric_writer& out);
  static constexpr std::int64_t no_timer = std::numeric_limits<std::int64_t>::max();

 protected:
  driver(const loop_options& options, bool shared);
  ~driver();

  const bool manual_clock_;
  std::atomic<std::int64_t> manual_now_;
  timer_wheel timers_;
  std::unique_ptr<reactor> reactor_;
  const char* backend_name_;
  driver_stats stats_;
};

/// A scheduler's work the driver must look at while it polls: none on the runtime (its workers
/// keep their queues); the event loop passes its ready and remote queues (loop_scheduler).
struct no_local_work {
  bool remote_pending() const noexcept { return false; }
  bool idle() const noexcept { return true; }
  void take_remote() noexcept {}
};

/// The locks of a shared driver: the timer lock (recursive: fire callbacks insert and remove
/// timers), the driver lock (held by drive() and by fd (de)registration), and what a blocked
/// drive() publishes for inserters and registrants.
struct driver_locks {
  std::recursive_mutex timer_mutex;
  std::mutex driver_mutex;
  std::atomic<int> driver_waiters{0};
  std::atomic<std::int64_t> driver_deadline{0};  // what a blocked drive() waits for
  std::atomic<int> clock_jumpers{0};             // see let_clock_jump
  // The wheel's size, stored under timer_mutex: drive() looks at it without the lock.
  std::atomic<std::size_t> timers_armed{0};
  /// Takes driver_mutex for an fd (de)registration: if drive() holds it while blocked in the
  /// reactor, wakes it; drive() lets such waiters in before it takes the lock again.
  std::unique_lock<std::mutex> lock_for_fd(reactor& r);
};
struct no_locks {};

template <bool Shared>
class basic_driver final : public driver {
 public:
  explicit basic_driver(const loop_options& options) : driver(options, Shared) {}

  bool insert_timer(timer_node& n, cancel_state* cancel, cancel_slot* slot) override {
    std::unique_lock<std::recursive_mutex> lock;
    if constexpr (Shared) lock = std::unique_lock(sync_.timer_mutex);
    if (cancel != nullptr && !cancel->arm(slot)) return false;
    timers_.insert(n);
    if constexpr (Shared) {
      sync_.timers_armed.store(timers_.size(), std::memory_order_relaxed);  // see drive()
      if (n.deadline < sync_.driver_deadline.load(std::memory_order_relaxed)) reactor_->wake();
    }
    return true;
  }
  void remove_timer(timer_node& n) noexcept override {
    std::unique_lock<std::recursive_mutex> lock;
    if constexpr (Shared) lock = std::unique_lock(sync_.timer_mutex);
    timers_.remove(n);
    if constexpr (Shared) sync_.timers_armed.store(timers_.size(), std::memory_order_relaxed);
  }
  fd_entry* register_fd(int fd) override {
    std::unique_lock<std::mutex> lock;
    if constexpr (Shared) lock = sync_.lock_for_fd(*reactor_);
    fd_entry* e = reactor_->register_fd(fd);
    // Before the driver can see an event for it: it waits for this lock.
    if constexpr (Shared) e->shared = true;
    return e;
  }
  void deregister_fd(fd_entry* e) noexcept override {
    std::unique_lock<std::mutex> lock;
    if constexpr (Shared) lock = sync_.lock_for_fd(*reactor_);
    reactor_->deregister_fd(e);
  }

  /// The one poll of the event loop's turn and of the runtime's parked worker (one thread at a
  /// time: see multi_thread/runtime_core.cpp). Polls I/O (blocking up to the next timer when
  /// `may_block`, until wake()), lets `work` move cross-thread callbacks in and fires due
  /// timers; with the manual clock and `may_block`, jumps to the next timer if nothing is ready.
  /// Returns whether anything happened (events or timers).
  template <class Work = no_local_work>
  bool drive(bool may_block, Work&& work = {});

  /// Shared with the manual clock: virtual time may only jump while someone waits for the
  /// tasks (a block_on, shutdown's wait), as an event loop's moves only inside run(). Counted.
  void let_clock_jump(bool on) noexcept
    requires Shared
  {
    if (!manual_clock_) return;
    if (!on) {
      sync_.clock_jumpers.fetch_sub(1, std::memory_order_acq_rel);
    } else if (sync_.clock_jumpers.fetch_add(1, std::memory_order_acq_rel) == 0) {
      reactor_->wake();
    }
  }

 private:
  [[no_unique_address]] std::conditional_t<Shared, driver_locks, no_locks> sync_;
};

using local_driver = basic_driver<false>;
using shared_driver = basic_driver<true>;

template <bool Shared>
template <class Work>
bool basic_driver<Shared>::drive(bool may_block, Work&& work) {
  std::unique_lock<std::mutex> driver_lock;
  std::unique_lock<std::recursive_mutex> timer_lock;
  // Virtual time jumps only when nothing else can happen: on the loop, when no callback is
  // ready; on the runtime, while someone waits for the tasks (let_clock_jump).
  bool may_jump = manual_clock_ && may_block;
  if constexpr (Shared) {
    while (sync_.driver_waiters.load(std::memory_order_acquire) > 0) cpu_relax();  // fds first
    driver_lock = std::unique_lock(sync_.driver_mutex);
    may_jump = may_jump && sync_.clock_jumpers.load(std::memory_order_acquire) > 0;
  }
  std::int64_t timeout = 0;
  std::int64_t next = no_timer;
  std::int64_t blocked_from = -1;  // a sampled blocking poll (driver_stats): when it began
  bool unbounded = false;          // the poll may have blocked past the lag probe's deadline
  if (may_block) {
    // Publishing the deadline under the timer lock: a timer inserted after this sees it and
    // wakes the poll if it is earlier.
    if constexpr (Shared) timer_lock = std::unique_lock(sync_.timer_mutex);
    next = timers_.next_deadline();
    // With the manual clock and a timer armed: look at I/O without blocking, then jump.
    if (next == no_timer || (manual_clock_ && !may_jump)) {
      timeout = -1;
    }
    const bool sampled = stats_.sample_blocking_poll();
    if (!manual_clock_ && (next != no_timer || sampled)) {
      // 0 when due, however far in the past ("next - now" would overflow for
      // time_point::min()). When next > now the difference cannot overflow (now >= 0), nor can
      // the reactors' own "their now + timeout": a far deadline shows here as the start of its
      // wheel slot (timer_wheel::next_deadline). Having read the clock, the poll also wakes
      // for the lag probe, as it would for a timer.
      const std::int64_t t = now();
      const std::int64_t wake_at = std::min(next, stats_.probe_deadline);
      timeout = wake_at <= t ? 0 : wake_at - t;
      if (sampled) blocked_from = t;
    }
    if (work.remote_pending()) timeout = 0;
    if (timeout == 0) blocked_from = -1;
    unbounded = timeout < 0;
    if constexpr (Shared) {
      if (timeout != 0) sync_.driver_deadline.store(next, std::memory_order_relaxed);
      timer_lock.unlock();
    }
  }
  std::size_t events = reactor_->poll(timeout);
  bool jump = may_jump && events == 0 && next != no_timer;
  if (jump && reactor_->completion_lag_ns() > 0) {
    events = reactor_->poll(reactor_->completion_lag_ns());  // nothing may still be on its way
  }
  driver_stats::bump(stats_.io_events, events);  // unconditional: cheaper than a branch
  if constexpr (Shared) {
    sync_.driver_deadline.store(std::numeric_limits<std::int64_t>::min(),
                                std::memory_order_relaxed);
  }
  jump = jump && events == 0 && work.idle();
  work.take_remote();  // before the timers fire: callbacks posted earlier run first
  bool fire = true;
  if constexpr (Shared) {
    // No timer armed: neither the timer lock nor an expire (a lock pair per drive, a tenth of
    // the runtime's echo round trip). Relaxed: a timer armed meanwhile waits for the next
    // drive, as one armed just after the expire would; one armed during a blocking poll woke it
    // through the reactor, after its store.
    fire = jump || sync_.timers_armed.load(std::memory_order_relaxed) != 0;
    if (fire) timer_lock = std::unique_lock(sync_.timer_mutex);
  }
  const std::int64_t t = now();
  stats_.probe(t, unbounded);  // before a jump: the step that just ended may have held the loop
  std::size_t fired = 0;
  if (jump && next > t) {
    manual_now_.store(next, std::memory_order_relaxed);  // virtual time: nothing else can run
    stats_.probe_deadline = driver_stats::probe_after(next);  // the jump itself is no lag
    fired = timers_.expire(next);
  } else {
    if (blocked_from >= 0 && t > blocked_from) stats_.add_idle_sample(t - blocked_from);
    if (fire) fired = timers_.expire(t);
  }
  if constexpr (Shared) {
    if (fire) sync_.timers_armed.store(timers_.size(), std::memory_order_relaxed);
  }
  return fired > 0 || events > 0;
}

}  // namespace coloop::detail

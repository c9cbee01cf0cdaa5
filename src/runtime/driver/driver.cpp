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
// wheel and the reactor as their frames go); in debug mode report_open_fds then names the fds
// still registered (leaked past the scheduler); then release() frees the reactor and its fds.

#include "runtime/driver/driver.hpp"

#include <algorithm>

#include <stdexcept>
#include <string>
#include <vector>

#include "core/log_format.hpp"

namespace coloop::detail {
namespace {

constinit std::atomic<std::uint32_t> last_driver_id{0};

double seconds(std::uint64_t ns) noexcept { return static_cast<double>(ns) / 1e9; }

}  // namespace

driver_stats::driver_stats(bool is_shared, std::int64_t now) noexcept
    // Relaxed: an id needs only to be unique.
    : id(last_driver_id.fetch_add(1, std::memory_order_relaxed) + 1),
      shared(is_shared),
      started_ns(now),
      probe_deadline(probe_after(now)) {}

void driver_stats::probe_due(std::int64_t now, bool unbounded_poll) noexcept {
  if (!unbounded_poll) lag.observe(lag_bounds, static_cast<double>(now - probe_deadline) / 1e9);
  probe_deadline = probe_after(now);
}

void driver::report_open_fds(const char* closing) const noexcept {
  try {
    std::vector<int> fds = reactor_->open_fds();
    if (fds.empty()) return;
    std::sort(fds.begin(), fds.end());
    std::string list;
    for (int fd : fds) list += (list.empty() ? "fd " : ", fd ") + std::to_string(fd);
    logf(log_level::warn, "coloop debug: {} with {} file descriptor(s) still open: {}", closing,
         fds.size(), list);
  } catch (...) {  // no memory for the report: the close goes on without it
  }
}

void driver::collect_driver(const void* self, metric_writer& out) {
  const auto& d = *static_cast<const driver*>(self);
  const driver_stats& s = d.stats_;
  const metrics::label_set labels{{"loop", std::to_string(s.id)},
                                  {"kind", s.shared ? "runtime" : "event_loop"}};
  out.counter("coloop_loop_parks_total",
              "Polls of the loop's driver that could block (nothing else to run).", labels,
              sample(s.parks));
  out.counter("coloop_loop_io_events_total", "I/O readiness or completion events.", labels,
              sample(s.io_events));
  if (!s.shared) {  // a runtime counts its polls per worker
    out.counter("coloop_loop_polls_total", "Task steps and callbacks run by an event loop.",
                labels, sample(s.polls));
  }
  const timer_wheel& w = d.timers_;
  const std::uint64_t armed = w.armed_total(), fired = w.fired_total();
  const std::uint64_t cancelled = w.cancelled_total();
  out.counter("coloop_timers_armed_total", "Timers armed (sleeps, timeouts, call_later).",
              labels, static_cast<double>(armed));
  out.counter("coloop_timers_fired_total", "Timers that expired.", labels,
              static_cast<double>(fired));
  out.counter("coloop_timers_cancelled_total", "Timers removed before they expired.", labels,
              static_cast<double>(cancelled));
  out.gauge("coloop_timers_pending", "Timers armed now.", labels,
            static_cast<double>(armed - std::min(armed, fired + cancelled)));
  s.lag.write(out, "coloop_loop_lag_seconds",
              "How late the loop's periodic probe ran (tasks holding the loop).", labels,
              lag_bounds);
  const std::int64_t up = std::max<std::int64_t>(1, d.now() - s.started_ns);
  const std::uint64_t idle = s.idle_ns.load(std::memory_order_relaxed);
  out.counter("coloop_loop_idle_seconds_total", "Time blocked waiting for I/O or timers.", labels,
              seconds(idle));
  out.gauge("coloop_loop_uptime_seconds", "Time since the loop was created.", labels,
            seconds(static_cast<std::uint64_t>(up)));
  out.gauge("coloop_loop_busy_ratio", "Share of its life the loop was not blocked waiting.",
            labels, std::max(0.0, 1.0 - static_cast<double>(idle) / static_cast<double>(up)));
}

driver::driver(const loop_options& options, bool shared)
    : manual_clock_(options.manual_clock),
      manual_now_(monotonic_ns()),
      timers_(manual_now_.load()),
      reactor_(make_reactor(options.backend, shared)),
      backend_name_(reactor_->name()),
      stats_(shared, manual_now_.load(std::memory_order_relaxed)) {
  add_collector(&collect_driver, this);
}

driver::~driver() { remove_collector(&collect_driver, this); }

void driver::advance(std::int64_t ns) {
  if (!manual_clock_) {
    throw std::logic_error("event_loop::advance_time: the loop has no manual clock");
  }
  if (ns < 0) throw std::invalid_argument("event_loop::advance_time: negative duration");
  // Saturates at the end of the clock (wrapping would send it back before every deadline).
  // Relaxed: only event_loop advances it, on its own thread, which also does all the reading.
  manual_now_.store(deadline_after(ns), std::memory_order_relaxed);
}

std::unique_lock<std::mutex> driver_locks::lock_for_fd(reactor& r) {
  std::unique_lock lock(driver_mutex, std::try_to_lock);
  if (lock) return lock;
  driver_waiters.fetch_add(1, std::memory_order_acq_rel);
  r.wake();
  lock.lock();
  driver_waiters.fetch_sub(1, std::memory_order_acq_rel);
  return lock;
}

}  // namespace coloop::detail

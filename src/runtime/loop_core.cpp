// The loop engine. One turn: run ready callbacks in FIFO order (at most `turn_budget` of them
// before looking at timers and I/O again, so a flood of ready work cannot starve them); move cross-thread callbacks in; fire expired timers; poll the reactor, blocking
// only when nothing is ready (until the next timer, or without limit).
//
// Invariants: everything but push_remote runs on the loop's thread; the reactor blocks only when
// the ready queue is empty and no remote callback is pending (remote_pending_ is set before
// wake(), and checked after the loop announced it may block).
//
// Shutdown (close): 1. refuse new remote callbacks; 2. destroy unfinished tasks (their awaiters
// withdraw from timers and the reactor as their frames go); 3. drop queued callbacks and timers
// without running them; 4. release the reactor (closes its fds).

#include "runtime/io/fd_entry.hpp"
#include "runtime/loop_core.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <system_error>

#include <coloop/core/errors.hpp>

#include "core/cpu_relax.hpp"
#include "runtime/context.hpp"

namespace coloop::detail {
namespace {

constinit thread_local loop_core* running_loop = nullptr;
constexpr std::size_t turn_budget = 61;  // tokio's event interval: I/O and timers every 61 steps

std::int64_t monotonic_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void log_exception(std::exception_ptr e) {
  try {
    std::rethrow_exception(std::move(e));
  } catch (const std::exception& ex) {
    fmt::print(stderr, "coloop: unhandled exception in a detached task: {}\n", ex.what());
  } catch (...) {
    fmt::print(stderr, "coloop: unhandled non-standard exception in a detached task\n");
  }
}

constexpr std::int64_t no_timer = std::numeric_limits<std::int64_t>::max();

/// The poll timeout for the earliest deadline `next` at `now`: 0 when due, however far in the
/// past ("next - now" would overflow for time_point::min()). When next > now the difference
/// cannot overflow (now >= 0), nor can the reactors' own "their now + timeout": a far deadline
/// shows here as the start of its wheel slot (timer_wheel::next_deadline).
std::int64_t poll_timeout(std::int64_t next, std::int64_t now) noexcept {
  return next <= now ? 0 : next - now;
}

}  // namespace

constinit thread_local unsigned task_shard_of_thread = 0;

loop_core::loop_core(const loop_options& options, scheduler* host)
    : manual_clock_(options.manual_clock),
      manual_now_(monotonic_ns()),
      timers_(manual_now_.load()),
      reactor_(make_reactor(options.backend, host != nullptr)),
      backend_name_(reactor_->name()),
      host_(host) {}

loop_core::~loop_core() { close(); }

void loop_core::post(std::coroutine_handle<> h) noexcept {
  if (host_ != nullptr) {
    host_->post(h);
    return;
  }
  // A full ring grows; if even that fails there is no way to keep the promise of resuming h.
  try {
    ready_.push(callback::resume(h));
  } catch (...) {
    std::terminate();
  }
}

void loop_core::push_remote(callback&& cb) {
  // wake() happens under the lock: close() takes it too, so the reactor cannot be released
  // while a poster is still writing to it.
  std::lock_guard lock(remote_mutex_);
  if (remote_closed_) throw std::system_error(make_error_code(errc::closed), "call_soon_threadsafe");
  remote_.push_back(std::move(cb));
  // seq_cst pairs with the loop's check before it blocks: either it sees the flag, or the wake
  // lands after it started to wait.
  if (!remote_pending_.exchange(true, std::memory_order_seq_cst)) reactor_->wake();
}

void loop_core::drain_remote() {
  if (!remote_pending_.load(std::memory_order_acquire)) return;
  {
    std::lock_guard lock(remote_mutex_);
    remote_spare_.swap(remote_);
    remote_pending_.store(false, std::memory_order_relaxed);
  }
  for (callback& cb : remote_spare_) ready_.push(std::move(cb));
  remote_spare_.clear();
}

std::int64_t loop_core::now() const noexcept {
  return manual_clock_ ? manual_now_.load(std::memory_order_relaxed) : monotonic_ns();
}

bool loop_core::insert_timer(timer_node& n, cancel_state* cancel, cancel_slot* slot) {
  std::unique_lock<std::recursive_mutex> lock;
  if (host_ != nullptr) lock = std::unique_lock(timer_mutex_);
  if (cancel != nullptr && !cancel->arm(slot)) return false;
  timers_.insert(n);
  if (host_ != nullptr && n.deadline < driver_deadline_.load(std::memory_order_relaxed)) {
    reactor_->wake();
  }
  return true;
}

void loop_core::remove_timer(timer_node& n) noexcept {
  if (host_ == nullptr) {
    timers_.remove(n);
    return;
  }
  std::lock_guard lock(timer_mutex_);
  timers_.remove(n);
}

namespace {
/// The driver lock for a registration: if the driver holds it while blocked in the reactor,
/// wake it; drive() lets waiters in before it takes the lock again.
class driver_guard {
 public:
  driver_guard(std::mutex& m, std::atomic<int>& waiters, reactor& r) : m_(m) {
    if (m_.try_lock()) return;
    waiters.fetch_add(1, std::memory_order_acq_rel);
    r.wake();
    m_.lock();
    waiters.fetch_sub(1, std::memory_order_acq_rel);
  }
  ~driver_guard() { m_.unlock(); }
  driver_guard(const driver_guard&) = delete;
  driver_guard& operator=(const driver_guard&) = delete;

 private:
  std::mutex& m_;
};
}  // namespace

fd_entry* loop_core::register_fd(int fd) {
  if (host_ == nullptr) return reactor_->register_fd(fd);
  driver_guard guard(driver_mutex_, driver_waiters_, *reactor_);
  fd_entry* e = reactor_->register_fd(fd);
  e->shared = true;  // before the driver can see an event for it: it waits for this lock
  return e;
}

void loop_core::deregister_fd(fd_entry* e) noexcept {
  if (host_ == nullptr) {
    reactor_->deregister_fd(e);
    return;
  }
  driver_guard guard(driver_mutex_, driver_waiters_, *reactor_);
  reactor_->deregister_fd(e);
}

void loop_core::add_task(spawn_promise_base& t) noexcept {
  if (host_ == nullptr) return tasks_.add(t);
  shared_tasks_.add(t);
}

void loop_core::remove_task(spawn_promise_base& t) noexcept {
  if (host_ == nullptr) return tasks_.remove(t);
  shared_tasks_.remove(t);
}

void loop_core::wait_until_no_tasks() noexcept { shared_tasks_.wait_until_empty(); }

std::size_t loop_core::live_tasks() noexcept {
  return host_ == nullptr ? tasks_.size() : shared_tasks_.size();
}

void loop_core::cancel_all_tasks() noexcept {
  if (host_ == nullptr) return tasks_.cancel_all();
  shared_tasks_.cancel_all();
}

bool loop_core::drive(bool may_block) {
  std::unique_lock<std::mutex> driver;
  if (shared()) {
    while (driver_waiters_.load(std::memory_order_acquire) > 0) cpu_relax();  // registrations first
    driver = std::unique_lock(driver_mutex_);
  }
  // Virtual time jumps only when nothing else can happen: on the loop, when no callback is
  // ready; on the runtime, while someone waits for the tasks (let_clock_jump).
  const bool may_jump = manual_clock_ && may_block &&
                        (!shared() || clock_jumpers_.load(std::memory_order_acquire) > 0);
  std::int64_t timeout = 0;
  std::int64_t next = no_timer;
  if (may_block) {
    // Publishing the deadline under the timer lock: a timer inserted after this sees it and
    // wakes the poll if it is earlier.
    std::unique_lock<std::recursive_mutex> timers;
    if (shared()) timers = std::unique_lock(timer_mutex_);
    next = timers_.next_deadline();
    // With the manual clock and a timer armed: look at I/O without blocking, then jump.
    if (next == no_timer || (manual_clock_ && !may_jump)) {
      timeout = -1;
    } else if (!manual_clock_) {
      timeout = poll_timeout(next, now());
    }
    // seq_cst pairs with push_remote: either the flag is seen here, or its wake() lands in the
    // poll below.
    if (remote_pending_.load(std::memory_order_seq_cst)) timeout = 0;
    if (timeout != 0 && shared()) driver_deadline_.store(next, std::memory_order_relaxed);
  }
  std::size_t events = reactor_->poll(timeout);
  bool jump = may_jump && events == 0 && next != no_timer;
  if (jump && reactor_->completion_lag_ns() > 0) {
    events = reactor_->poll(reactor_->completion_lag_ns());  // nothing may still be on its way
  }
  if (shared()) {
    driver_deadline_.store(std::numeric_limits<std::int64_t>::min(), std::memory_order_relaxed);
  }
  jump = jump && events == 0 && ready_.empty() && !remote_pending_.load(std::memory_order_acquire);
  drain_remote();  // before the timers fire: callbacks posted earlier run first
  std::unique_lock<std::recursive_mutex> timers;
  if (shared()) timers = std::unique_lock(timer_mutex_);
  if (jump && next > manual_now_.load(std::memory_order_relaxed)) {
    manual_now_.store(next, std::memory_order_relaxed);  // virtual time: nothing else can run
  }
  return timers_.expire(now()) > 0 || events > 0;
}

void loop_core::let_clock_jump(bool on) noexcept {
  if (!manual_clock_) return;
  if (on) {
    if (clock_jumpers_.fetch_add(1, std::memory_order_acq_rel) == 0) reactor_->wake();
  } else {
    clock_jumpers_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void loop_core::advance(std::int64_t ns) {
  if (!manual_clock_) throw std::logic_error("event_loop::advance_time: the loop has no manual clock");
  if (ns < 0) throw std::invalid_argument("event_loop::advance_time: negative duration");
  // Saturates at the end of the clock (wrapping would send it back before every deadline).
  // Relaxed: only event_loop advances it, on its own thread, which also does all the reading.
  const std::int64_t now = manual_now_.load(std::memory_order_relaxed);
  manual_now_.store(ns > no_timer - now ? no_timer : now + ns, std::memory_order_relaxed);
}

timer_entry* loop_core::add_timer(std::int64_t deadline, callback&& fn) {
  if (closed_) throw std::logic_error("coloop::event_loop: timer armed on a closed loop");
  timer_entry* e = timer_entries_.acquire();
  e->fn = std::move(fn);
  e->loop = this;
  e->node.deadline = deadline;
  e->node.fire = [](timer_node* n) noexcept {
    auto* entry = reinterpret_cast<timer_entry*>(n);
    entry->due = true;
    try {
      entry->loop->ready_.push([entry] { entry->loop->run_timer(entry); });
    } catch (...) {
      std::terminate();  // no memory to queue a due callback: nothing sane left to do
    }
  };
  timers_.insert(e->node);
  return e;
}

void loop_core::run_timer(timer_entry* e) {
  if (e->cancelled) {
    timer_entries_.release(e);
    return;
  }
  callback fn = std::move(e->fn);
  timer_entries_.release(e);  // before running: the callback may arm a timer that reuses it
  fn();
}

void loop_core::cancel_timer(timer_entry* e) noexcept {
  if (e->due) {
    e->cancelled = true;  // already on the ready queue: skipped and released there
    return;
  }
  timers_.remove(e->node);
  timer_entries_.release(e);
}

void loop_core::run(bool (*done)(const void*), const void* arg) {
  if (closed_) throw std::logic_error("coloop::event_loop: run on a closed loop");
  if (running_) throw std::logic_error("coloop::event_loop: the loop is already running");
  if (running_loop != nullptr || current_scheduler() != nullptr) {
    throw std::logic_error(
        "coloop::event_loop: another event loop (or sync_wait) is already running on this thread");
  }
  running_ = true;
  stop_requested_ = false;
  running_loop = this;
  scheduler_scope scope(this);
  struct reset {
    loop_core* self;
    ~reset() {
      self->running_ = false;
      running_loop = nullptr;
    }
  } guard{this};
  while (!stop_requested_ && (done == nullptr || !done(arg))) turn(done, arg);
}

void loop_core::turn(bool (*done)(const void*), const void* arg) {
  // Work readied during the turn runs in the same turn, up to the budget: a spawn+join ping-pong
  // then costs one poll per `turn_budget` steps instead of one per step.
  for (std::size_t n = 0; n < turn_budget && !ready_.empty(); ++n) {
    begin_step();
    callback cb = ready_.pop();
    try {
      cb();
    } catch (...) {  // a call_soon/call_later callback threw (tasks catch their own)
      report(std::current_exception());
    }
    if (stop_requested_ || (done != nullptr && done(arg))) return;
  }
  drain_remote();
  drive(ready_.empty());
}

void loop_core::report(std::exception_ptr e) noexcept {
  try {
    if (exception_handler) {
      exception_handler(std::move(e));
    } else {
      log_exception(std::move(e));
    }
  } catch (...) {
    std::fputs("coloop: the exception handler threw; exception dropped\n", stderr);
  }
}

void loop_core::close() {
  if (closed_) return;
  if (running_) throw std::logic_error("coloop::event_loop::close: the loop is running");
  {
    std::lock_guard lock(remote_mutex_);
    remote_closed_ = true;
  }
  for (;;) {
    spawn_promise_base* t = tasks_.first();
    if (t != nullptr) {
      tasks_.remove(*t);
    } else if ((t = shared_tasks_.take_any()) == nullptr) {
      break;
    }
    t->abort();
    t->release();
  }
  closed_ = true;
  ready_.clear();
  remote_.clear();
  reactor_.reset();  // callback timers still armed die with timer_entries_
}

loop_core& current_loop_core(const char* api) {
  if (running_loop == nullptr) {
    throw std::logic_error(fmt::format("{}: no event loop is running on this thread", api));
  }
  return *running_loop;
}

loop_core* current_loop_core_or_null() noexcept { return running_loop; }

void require_running_loop(const char* api) { current_loop_core(api); }

reactor* current_reactor() noexcept { return running_loop != nullptr ? &running_loop->io() : nullptr; }

loop_core_scope::loop_core_scope(loop_core* loop) noexcept : saved_(running_loop) {
  running_loop = loop;
}
loop_core_scope::~loop_core_scope() { running_loop = saved_; }

}  // namespace coloop::detail

// The event loop's scheduler. One turn: run ready callbacks in FIFO order (at most `turn_budget`
// of them before looking at timers and I/O again, so a flood of ready work cannot starve them);
// move cross-thread callbacks in; then drive the local driver: poll the reactor, blocking only
// when nothing is ready (until the next timer, or without limit), and fire expired timers.
//
// Invariants: everything but push_remote runs on the loop's thread; the reactor blocks only when
// the ready queue is empty and no remote callback is pending (remote_pending_ is set before
// wake(), and checked with seq_cst by drive() right before it blocks: loop_work).
//
// Shutdown (close): 1. refuse new remote callbacks; 2. destroy unfinished tasks (their awaiters
// withdraw from timers and the reactor as their frames go); 3. drop queued callbacks and timers
// without running them; 4. release the reactor (closes its fds).

#include "runtime/current_thread/loop_scheduler.hpp"

#include <stdexcept>
#include <system_error>

#include <coloop/core/errors.hpp>

namespace coloop::detail {

constexpr std::size_t turn_budget = 61;  // tokio's event interval: I/O and timers every 61 steps

/// The loop's queues as drive() sees them (driver.hpp's no_local_work is the runtime's).
struct loop_work {
  loop_scheduler& s;
  // seq_cst pairs with push_remote: either the flag is seen here, or its wake() lands in the
  // poll that follows.
  bool remote_pending() const noexcept { return s.remote_pending_.load(std::memory_order_seq_cst); }
  bool idle() const noexcept {
    return s.ready_.empty() && !s.remote_pending_.load(std::memory_order_acquire);
  }
  void take_remote() { s.drain_remote(); }
};

loop_scheduler::loop_scheduler(const loop_options& options) : context(driver_), driver_(options) {}

loop_scheduler::~loop_scheduler() { close(); }

void loop_scheduler::post(std::coroutine_handle<> h) noexcept {
  // A full ring grows; if even that fails there is no way to keep the promise of resuming h.
  try {
    ready_.push(callback::resume(h));
  } catch (...) {
    std::terminate();
  }
}

void loop_scheduler::push_remote(callback&& cb) {
  // wake() happens under the lock: close() takes it too, so the reactor cannot be released
  // while a poster is still writing to it.
  std::lock_guard lock(remote_mutex_);
  if (remote_closed_) throw std::system_error(make_error_code(errc::closed), "call_soon_threadsafe");
  remote_.push_back(std::move(cb));
  // seq_cst pairs with the loop's check before it blocks: either it sees the flag, or the wake
  // lands after it started to wait.
  if (!remote_pending_.exchange(true, std::memory_order_seq_cst)) driver_.wake();
}

void loop_scheduler::drain_remote() {
  if (!remote_pending_.load(std::memory_order_acquire)) return;
  {
    std::lock_guard lock(remote_mutex_);
    remote_spare_.swap(remote_);
    remote_pending_.store(false, std::memory_order_relaxed);
  }
  for (callback& cb : remote_spare_) ready_.push(std::move(cb));
  remote_spare_.clear();
}

timer_entry* loop_scheduler::add_timer(std::int64_t deadline, callback&& fn) {
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
  driver_.timers().insert(e->node);
  return e;
}

void loop_scheduler::run_timer(timer_entry* e) {
  if (e->cancelled) {
    timer_entries_.release(e);
    return;
  }
  callback fn = std::move(e->fn);
  timer_entries_.release(e);  // before running: the callback may arm a timer that reuses it
  fn();
}

void loop_scheduler::cancel_timer(timer_entry* e) noexcept {
  if (e->due) {
    e->cancelled = true;  // already on the ready queue: skipped and released there
    return;
  }
  driver_.timers().remove(e->node);
  timer_entries_.release(e);
}

void loop_scheduler::run(bool (*done)(const void*), const void* arg) {
  if (closed_) throw std::logic_error("coloop::event_loop: run on a closed loop");
  if (running_) throw std::logic_error("coloop::event_loop: the loop is already running");
  if (current_context_or_null() != nullptr || current_scheduler() != nullptr) {
    throw std::logic_error(
        "coloop::event_loop: another event loop (or sync_wait) is already running on this thread");
  }
  running_ = true;
  stop_requested_ = false;
  context_scope ctx(this);
  scheduler_scope scope(this);
  struct reset {
    bool& running;
    ~reset() { running = false; }
  } guard{running_};
  while (!stop_requested_ && (done == nullptr || !done(arg))) turn(done, arg);
}

void loop_scheduler::turn(bool (*done)(const void*), const void* arg) {
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
  driver_.drive(ready_.empty(), loop_work{*this});
}

void loop_scheduler::close() {
  if (closed_) return;
  if (running_) throw std::logic_error("coloop::event_loop::close: the loop is running");
  {
    std::lock_guard lock(remote_mutex_);
    remote_closed_ = true;
  }
  while (spawn_promise_base* t = tasks_.first()) {
    tasks_.remove(*t);
    t->abort();
    t->release();
  }
  closed_ = true;
  ready_.clear();
  remote_.clear();
  driver_.release();  // callback timers still armed die with timer_entries_
}

}  // namespace coloop::detail

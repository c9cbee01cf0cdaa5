// The event loop: its scheduler (loop_scheduler, private; with call_later's timer entries) and
// its public face (event_loop).
//
// One turn: run ready callbacks in FIFO order (at most `turn_budget` of them before looking at
// timers and I/O again, so a flood of ready work cannot starve them); move cross-thread
// callbacks in; then drive the local driver: poll the reactor, blocking only when nothing is
// ready (until the next timer, or without limit), and fire expired timers.
//
// Invariants: everything but push_remote (call_soon_threadsafe) runs on the loop's thread; the
// reactor blocks only when the ready queue is empty and no remote callback is pending
// (remote_pending_ is set before wake(), and checked with seq_cst by drive() right before it
// blocks: loop_scheduler::work).
//
// Shutdown (close): 1. refuse new remote callbacks; 2. destroy unfinished tasks (their awaiters
// withdraw from timers and the reactor as their frames go); 3. in debug mode, report the fds
// still registered and the call_later timers still pending (leaked past the loop); 4. drop
// queued callbacks and timers without running them; 5. release the reactor (closes its fds).

#include <coloop/runtime/event_loop.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <coloop/core/errors.hpp>

#include "core/log_format.hpp"
#include "core/monotonic.hpp"
#include "runtime/context.hpp"
#include "runtime/current_thread/ready_queue.hpp"
#include "runtime/driver/driver.hpp"
#include "runtime/dump_on_signal.hpp"
#include "runtime/ready_marks.hpp"
#include "runtime/task_dump_impl.hpp"
#include "runtime/task_extra.hpp"
#include "runtime/task_registry.hpp"

namespace coloop::detail {

constexpr std::size_t turn_budget = 61;  // tokio's event interval: I/O and timers every 61 steps

class loop_scheduler;

/// A call_later/call_at timer. Entries are recycled through the loop's free list, so arming and
/// cancelling allocates nothing in steady state, and a stale timer_handle can always check the
/// generation. Life: armed in the wheel -> due (queued on the ready queue, still cancellable, as
/// in asyncio) -> released when its callback runs or it is cancelled.
struct timer_entry {
  timer_node node;  // first: fire() casts back
  callback fn;
  loop_scheduler* loop = nullptr;
  std::uint64_t generation = 0;
  timer_entry* next_free = nullptr;
  bool due = false;
  bool cancelled = false;
};

class timer_entry_pool {
 public:
  timer_entry* acquire() {
    if (free_ == nullptr) release(&entries_.emplace_back());  // a deque: entries never move
    timer_entry* e = free_;
    free_ = e->next_free;
    return e;
  }
  void release(timer_entry* e) noexcept {
    e->fn.reset();
    e->due = false;
    e->cancelled = false;
    ++e->generation;
    e->next_free = free_;
    free_ = e;
  }
  /// Entries whose callback is still to run: armed, or due and not cancelled. Walks every
  /// entry (debug mode, at close), so acquire and release count nothing.
  std::size_t pending() const noexcept {
    std::size_t n = 0;
    for (const timer_entry& e : entries_) n += e.due ? !e.cancelled : e.node.armed();
    return n;
  }

 private:
  std::deque<timer_entry> entries_;
  timer_entry* free_ = nullptr;
};

/// The event loop's scheduler: the ready queue, the remote queue of call_soon_threadsafe, the
/// task registry and call_later's timer entries, on a local_driver.
class loop_scheduler final : public context {
 public:
  explicit loop_scheduler(const loop_options& options) : context(driver_), driver_(options) {
    set_debug(debug_mode_requested(options));
    slow_step_ns = options.slow_callback_duration.count();
    watch_dump_signal(*this);
  }
  ~loop_scheduler() {
    unwatch_dump_signal(*this);
    close();
  }

  void post(std::coroutine_handle<> h) noexcept override {
    // A full ring grows; if even that fails there is no way to keep the promise of resuming h.
    try {
      ready_.push_resume(h);
    } catch (...) {
      std::terminate();
    }
  }
  void post_threadsafe(std::coroutine_handle<> h) override { push_remote(callback::resume(h)); }
  // post_yield: post(), the ready queue is FIFO already.
  std::coroutine_handle<> end_task(spawn_promise_base& t) noexcept override {
    tasks_.remove(t);
    return t.hand_over();
  }
  void start(spawn_promise_base& t) noexcept override {
    tasks_.add(t);
    t.place_ = ready_.push_start(t.self());  // noexcept: a failure to grow terminates, as post()
  }
  std::coroutine_handle<> join_start(spawn_promise_base& t, std::coroutine_handle<> joiner,
                                     cancel_state* joiner_cancel) override {
    if (on_loop_thread() && ready_.withdraw_pending(t.place_)) [[likely]] {
      return t.join_help(joiner, joiner_cancel, true);
    }
    return join_queued(t, joiner, joiner_cancel);
  }
  /// Whether this thread runs the loop (where its handles are local: handle_local).
  bool on_loop_thread() const noexcept {
    return this_thread.local_loop == static_cast<const context*>(this);
  }
  /// join_start of any other task, or from another thread: out of line, so that the common one
  /// saves no registers.
  [[gnu::noinline]] std::coroutine_handle<> join_queued(spawn_promise_base& t,
                                                        std::coroutine_handle<> joiner,
                                                        cancel_state* joiner_cancel) {
    if (!on_loop_thread()) [[unlikely]] spawn_promise_base::throw_joined_elsewhere();
    if (ready_.withdraw(t.place_)) return t.join_help(joiner, joiner_cancel, true);
    return t.join_wait(joiner, joiner_cancel);
  }

  void push_remote(callback&& cb) {
    // wake() happens under the lock: close() takes it too, so the reactor cannot be released
    // while a poster is still writing to it.
    std::lock_guard lock(remote_mutex_);
    if (remote_closed_) {
      throw std::system_error(make_error_code(errc::closed), "call_soon_threadsafe");
    }
    remote_.push_back(std::move(cb));
    // seq_cst pairs with the loop's check before it blocks: either it sees the flag, or the wake
    // lands after it started to wait.
    if (!remote_pending_.exchange(true, std::memory_order_seq_cst)) driver_.wake();
  }
  void drain_remote() {
    if (!remote_pending_.load(std::memory_order_acquire)) return;
    {
      std::lock_guard lock(remote_mutex_);
      remote_spare_.swap(remote_);
      remote_pending_.store(false, std::memory_order_relaxed);
    }
    for (callback& cb : remote_spare_) ready_.push(std::move(cb));
    remote_spare_.clear();
  }
  /// The loop's queues as drive() sees them (driver.hpp's no_local_work is the runtime's).
  struct work {
    loop_scheduler& s;
    // seq_cst pairs with push_remote: either the flag is seen here, or its wake() lands in the
    // poll that follows.
    bool remote_pending() const noexcept {
      return s.remote_pending_.load(std::memory_order_seq_cst);
    }
    bool idle() const noexcept {
      return s.ready_.empty() && !s.remote_pending_.load(std::memory_order_acquire);
    }
    void take_remote() { s.drain_remote(); }
  };
  timer_handle add_timer(std::int64_t deadline, callback&& fn) {
    if (closed()) throw std::logic_error("coloop::event_loop: timer armed on a closed loop");
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
    return {e, e->generation};
  }
  void run_timer(timer_entry* e) {
    if (e->cancelled) {
      timer_entries_.release(e);
      return;
    }
    callback fn = std::move(e->fn);
    timer_entries_.release(e);  // before running: the callback may arm a timer that reuses it
    fn();
  }
  void cancel_timer(timer_entry* e) noexcept {
    if (e->due) {
      e->cancelled = true;  // already on the ready queue: skipped and released there
      return;
    }
    driver_.timers().remove(e->node);
    timer_entries_.release(e);
  }
  void run(bool (*done)(const void*), const void* arg) {
    if (closed()) throw std::logic_error("coloop::event_loop: run on a closed loop");
    if (running_) throw std::logic_error("coloop::event_loop: the loop is already running");
    if (current_context_or_null() != nullptr || current_scheduler() != nullptr) {
      throw std::logic_error(
          "coloop::event_loop: another event loop (or sync_wait) is already running on this "
          "thread");
    }
    running_ = true;
    stop_requested_ = false;
    scheduler_scope scope(this);
    set_current_context(this);
    this_thread.debug = debug();
    this_thread.local_loop = static_cast<const context*>(this);
    // relaxed: read by debug mode's wrong-thread checks, which only compare it with their own id.
    loop_thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    struct reset {
      loop_scheduler* s;
      ~reset() {
        s->running_ = false;
        s->loop_thread_.store({}, std::memory_order_relaxed);
        this_thread.debug = false;
        this_thread.local_loop = &no_local_loop;  // a later loop may reuse this one's address
        set_current_context(nullptr);
      }
    } guard{this};
    if (debug()) {
      while (!stop_requested_ && (done == nullptr || !done(arg))) turn<true>(done, arg);
    } else {
      while (!stop_requested_ && (done == nullptr || !done(arg))) turn<false>(done, arg);
    }
  }
  /// Debug mode: throws std::logic_error naming `api` when called on a thread other than the
  /// one running the loop.
  void check_loop_thread(const char* api) const {
    const std::thread::id at = loop_thread_.load(std::memory_order_relaxed);
    if (at != std::thread::id{} && at != std::this_thread::get_id()) {
      throw std::logic_error(std::string(api) +
                             ": called from a thread that is not running the loop (use "
                             "call_soon_threadsafe, or coloop::run_coroutine_threadsafe)");
    }
  }
  template <bool Debug>
  void turn(bool (*done)(const void*), const void* arg) {
    // Work readied during the turn runs in the same turn, up to the budget: a spawn+join ping-pong
    // then costs one poll per `turn_budget` steps instead of one per step.
    std::size_t n = 0;
    // Debug mode's scheduling delay (ready_marks.hpp): what the last poll queued (after its
    // wait ended) is ready by now; what a step queues, since the step began.
    [[maybe_unused]] std::int64_t step_start = 0;
    if constexpr (Debug) marks_.mark(ready_.head(), ready_.tail(), monotonic_ns());
    for (; n < turn_budget && !ready_.empty(); ++n) {
      begin_step();
      callback cb = ready_.pop();
      step_ = &cb;  // for dumps, which run inside a step: cleared once the turn's steps are done
      if constexpr (Debug) step_start = debug_step_begin_resuming(cb);
      try {
        cb();
      } catch (...) {  // a call_soon/call_later callback threw (tasks catch their own)
        report(std::current_exception());
      }
      if constexpr (Debug) {
        debug_step_end(*this);
        marks_.mark(ready_.head(), ready_.tail(), step_start);
      }
      if (stop_requested_ || (done != nullptr && done(arg))) {
        driver_stats::bump(driver_.stats().polls, n + 1);  // metrics: the turn's steps at once
        step_ = nullptr;
        return;
      }
    }
    step_ = nullptr;
    driver_stats::bump(driver_.stats().polls, n);
    drain_remote();
    driver_.drive(ready_.empty(), work{*this});
  }
  /// Debug mode: begins the step of `cb`, just popped, and returns when. A coroutine it resumes
  /// waited in the queue since its mark (a plain callback's wait is nobody's: no task to charge).
  std::int64_t debug_step_begin_resuming(const callback& cb) noexcept {
    const std::int64_t now = monotonic_ns();
    const std::int64_t queued_at =
        cb.resumed_frame() != nullptr ? marks_.queued_at(ready_.head() - 1, now) : now;
    debug_step_begin(now, now - queued_at);
    return now;
  }
  void close() {
    if (closed()) return;
    if (running_) throw std::logic_error("coloop::event_loop::close: the loop is running");
    {
      std::lock_guard lock(remote_mutex_);
      remote_closed_ = true;
    }
    if (debug() && !tasks_.empty()) report_pending_at_close();
    // Debug mode's reports of the coroutines destroyed with their tasks.
    const bool was_debug = std::exchange(this_thread.debug, debug());
    while (spawn_promise_base* t = tasks_.first()) {
      tasks_.remove(*t);
      t->abort();  // drops the task's reference
    }
    this_thread.debug = was_debug;
    if (debug()) report_left_at_close();  // before ready_ drops the due timers
    set_closed();
    ready_.clear();
    marks_.clear();
    remote_.clear();
    driver_.release();  // callback timers still armed die with timer_entries_
  }

  void report_pending_at_close() const noexcept {
    try {
      std::string list;
      for (const spawn_promise_base* t = tasks_.first(); t != nullptr; t = t->next_) {
        list += "\n  " + describe_task(*t);
      }
      logf(log_level::warn, "coloop debug: the event loop closed with {} task(s) still pending:{}",
           tasks_.size(), list);
    } catch (...) {
    }
  }
  /// What outlived the tasks: fds still registered and call_later timers still to run.
  void report_left_at_close() const noexcept {
    driver_.report_open_fds("the event loop closed");
    if (const std::size_t n = timer_entries_.pending(); n > 0) {
      logf(log_level::warn,
           "coloop debug: the event loop closed with {} call_later/call_at handle(s) still pending",
           n);
    }
  }
  void dump_on_signal() override {
    try {
      push_remote([this] {
        std::vector<task_info> tasks;
        collect_tasks(tasks);
        log_task_dump("an event loop", tasks);
      });
    } catch (...) {  // closed: nothing to dump
    }
  }
  void collect_tasks(std::vector<task_info>& out) override {
    void* running[1] = {step_ != nullptr ? step_->resumed_frame() : nullptr};
    // Woken tasks wait in the ready queue, or, woken from another thread, in the remote queue.
    queued_frames queued;
    ready_.for_each_resumed([&queued](void* frame) { queued.add(frame); });
    {
      std::lock_guard lock(remote_mutex_);
      for (const callback& cb : remote_) queued.add(cb.resumed_frame());
    }
    queued.seal();
    for (const spawn_promise_base* t = tasks_.first(); t != nullptr; t = t->next_) {
      out.push_back(snapshot_task(*t, running, queued));
    }
  }

  local_driver driver_;  // first: outlives everything that refers to its wheel and reactor
  ready_queue ready_;
  timer_entry_pool timer_entries_;
  task_registry tasks_;

  std::mutex remote_mutex_;
  std::vector<callback> remote_;        // guarded by remote_mutex_
  std::vector<callback> remote_spare_;  // loop thread: swapped with remote_ to drain it
  bool remote_closed_ = false;          // guarded by remote_mutex_
  std::atomic<bool> remote_pending_{false};

  bool stop_requested_ = false;
  bool running_ = false;
  std::atomic<std::thread::id> loop_thread_{};  // while running
  const callback* step_ = nullptr;  // the callback the loop is running, if any
  ready_marks<std::size_t> marks_;  // debug mode only: when the ready queue's entries were queued
};

}  // namespace coloop::detail

namespace coloop {

event_loop::event_loop(loop_options options)
    : core_(std::make_unique<detail::loop_scheduler>(options)), debug_(core_->debug()) {}

void event_loop::check_loop_thread(const char* api) const { core_->check_loop_thread(api); }

event_loop::~event_loop() {
  if (core_->running_) {
    // Destroying a running loop is a bug in the caller; closing under its feet would be worse.
    log(log_level::error, "coloop: event_loop destroyed while running");
    std::terminate();
  }
  core_->close();
}

namespace {
thread_local event_loop* current_event_loop = nullptr;
}

void event_loop::run_until(bool (*done)(const void*), const void* arg) {
  struct restore {
    event_loop* saved;
    ~restore() { current_event_loop = saved; }
  } guard{std::exchange(current_event_loop, this)};
  core_->run(done, arg);
}

void event_loop::throw_stopped_early() {
  throw std::runtime_error(
      "event_loop::run_until_complete: stop() was called before the task completed");
}

void event_loop::run_forever() { run_until(nullptr, nullptr); }
void event_loop::stop() noexcept { core_->stop_requested_ = true; }
void event_loop::close() { core_->close(); }
bool event_loop::is_closed() const noexcept { return core_->closed(); }
bool event_loop::is_running() const noexcept { return core_->running_; }

void event_loop::call_soon(detail::callback fn) {
  if (debug_) [[unlikely]] check_loop_thread("coloop::event_loop::call_soon");
  if (core_->closed()) throw std::logic_error("event_loop::call_soon: the loop is closed");
  core_->ready_.push(std::move(fn));
}

void event_loop::call_soon_threadsafe(detail::callback fn) { core_->push_remote(std::move(fn)); }

timer_handle event_loop::call_later(duration delay, detail::callback fn) {
  if (debug_) [[unlikely]] check_loop_thread("coloop::event_loop::call_later");
  const std::int64_t ns = std::max(delay.count(), std::int64_t{0});
  return core_->add_timer(core_->driver_.deadline_after(ns), std::move(fn));
}

timer_handle event_loop::call_at(time_point when, detail::callback fn) {
  if (debug_) [[unlikely]] check_loop_thread("coloop::event_loop::call_at");
  return core_->add_timer(when.time_since_epoch().count(), std::move(fn));
}

time_point event_loop::time() const noexcept { return time_point(duration(core_->driver_.now())); }

void event_loop::advance_time(duration d) { core_->driver_.advance(d.count()); }

std::string_view event_loop::backend_name() const noexcept { return core_->driver_.backend_name(); }

void event_loop::set_exception_handler(std::function<void(std::exception_ptr)> handler) {
  core_->exception_handler = std::move(handler);
}

void event_loop::cancel_all_tasks() {
  if (core_->closed()) return;
  core_->tasks_.cancel_all();
  using detail::task_registry;
  run_until([](const void* t) { return static_cast<const task_registry*>(t)->empty(); },
            &core_->tasks_);
}

std::size_t event_loop::live_tasks() const noexcept { return core_->tasks_.size(); }

std::vector<task_info> event_loop::all_tasks() const {
  std::vector<task_info> out;
  core_->collect_tasks(out);
  return out;
}

event_loop* event_loop::current() noexcept { return current_event_loop; }

detail::context& event_loop::ctx() noexcept { return *core_; }

bool timer_handle::cancel() noexcept {
  if (!pending()) return false;
  entry_->loop->cancel_timer(entry_);
  return true;
}

bool timer_handle::pending() const noexcept {
  return entry_ != nullptr && entry_->generation == generation_ && !entry_->cancelled &&
         (entry_->node.armed() || entry_->due);
}

}  // namespace coloop

namespace coloop::detail {

void check_no_running_loop(const char* api) {
  if (current_scheduler() != nullptr) {
    throw std::logic_error(std::string(api) +
                           ": called while an event loop (or sync_wait) is running on this thread; "
                           "co_await the task instead");
  }
}

}  // namespace coloop::detail

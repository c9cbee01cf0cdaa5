// The multi-threaded runtime's scheduler (tokio's design, DESIGN.md §4).
//
// Each worker runs tasks from, in order: its LIFO slot (the task it woke last, so a wake-up
// chain stays on one hot core), its spawn stack (the first steps of the tasks it spawned, newest
// first, private so a joiner can take its child back and run it inline: fork-join runs depth
// first; the oldest spills to the ring whenever that is empty, for thieves), its local ring
// (256, stolen from by others), the global inject queue (wakes from outside, and overflow), and
// finally by stealing half of a random victim's ring. Every 61 ticks the inject queue goes first
// and the driver is polled without blocking, so neither starves. The LIFO slot runs at most 3 times
// in a row, then goes to the back of the ring, so two tasks waking each other cannot starve the
// rest.
//
// Idle workers (idle.hpp): at most half search at once; a producer wakes a parked worker only
// when nobody searches; a searcher that finds work and was the last one wakes another. A worker
// about to sleep records itself parked and, if it was the last searcher, re-checks every queue.
//
// The driver (a shared_driver: the reactor, the timer wheel, the clock; driver/driver.cpp) is
// polled by exactly one worker at a time: the first to park takes it and blocks in the reactor
// (parker.hpp's park_on_driver; unpark wakes the reactor); the others sleep on futexes. With
// the manual clock only the last worker to park may drive, and it then jumps to the next timer.
//
// Randomized mode (a seed): posts go to the LIFO slot, the ring or the inject queue at random
// and the inject queue is taken first at random ticks, so tests see many interleavings; the
// seed is printed so a failure can be replayed.

#include "runtime/multi_thread/runtime_core.hpp"

#include "runtime/dump_on_signal.hpp"
#include "runtime/task_dump_impl.hpp"
#include "runtime/task_extra.hpp"

#include "core/log_format.hpp"
#include "core/monotonic.hpp"
#include "runtime/metrics/runtime_collector.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

#include <coloop/core/errors.hpp>

namespace coloop::detail::mt {
namespace {

constinit thread_local worker* current_worker = nullptr;
constexpr unsigned max_lifo_streak = 3;

std::size_t worker_count(const loop_options& options) {
  if (options.workers == 0) {
    const unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : hw;
  }
  if (options.workers > 1024) {
    throw std::invalid_argument(
        fmt::format("coloop::runtime: workers must be 1..1024 (got {})", options.workers));
  }
  return options.workers;
}

std::uint64_t schedule_seed(const loop_options& options) {
  if (options.schedule_seed != 0) return options.schedule_seed;
  const char* env = std::getenv("COLOOP_SCHEDULE_SEED");
  if (env == nullptr || *env == '\0') return 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(env, &end, 10);
  if (*end != '\0') {
    throw std::invalid_argument(
        fmt::format("COLOOP_SCHEDULE_SEED: not a decimal number: '{}'", env));
  }
  return v;
}

}  // namespace

}  // namespace coloop::detail::mt

namespace coloop::detail {
constinit thread_local unsigned task_shard_of_thread = 0;
}  // namespace coloop::detail

namespace coloop::detail::mt {

runtime_core::runtime_core(const loop_options& options)
    : context(driver_),
      driver_(options),
      idle_(worker_count(options)),
      seed_(schedule_seed(options)),
      manual_clock_(options.manual_clock) {
  set_debug(debug_mode_requested(options));
  slow_step_ns = options.slow_callback_duration.count();
  const std::size_t n = idle_.num_workers();
  if (seed_ != 0) {
    logf(log_level::info, "coloop: randomized scheduling, seed {} (COLOOP_SCHEDULE_SEED)", seed_);
  }
  workers_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto w = std::make_unique<worker>(*this, i);
    w->rng = (seed_ ^ 0x9e3779b97f4a7c15ULL) * (i + 1) | 1;
    w->park.set_driver_waker(
        [](void* driver) noexcept { static_cast<shared_driver*>(driver)->wake(); }, &driver_);
    workers_.push_back(std::move(w));
  }
  start_workers();
  runtime_collector::add(*this);
  watch_dump_signal(*this);
}

runtime_core::~runtime_core() {
  unwatch_dump_signal(*this);
  runtime_collector::remove(*this);
  shutdown();
}

void runtime_core::start_workers() {
  try {
    for (auto& w : workers_) {
      worker* raw = w.get();
      w->thread = std::thread([this, raw] { run_worker(*raw); });
    }
  } catch (...) {
    stop_.store(true, std::memory_order_release);
    for (auto& w : workers_) {
      w->park.unpark();
      if (w->thread.joinable()) w->thread.join();
    }
    throw;
  }
}

runtime_core* runtime_core::current() noexcept {
  return current_worker != nullptr ? &current_worker->rt : nullptr;
}

bool runtime_core::on_worker() const noexcept {
  return current_worker != nullptr && &current_worker->rt == this;
}

std::uint64_t runtime_core::next_random(worker& w) noexcept {
  w.rng ^= w.rng << 13;
  w.rng ^= w.rng >> 7;
  w.rng ^= w.rng << 17;
  return w.rng;
}

void runtime_core::post(std::coroutine_handle<> h) noexcept {
  worker* w = current_worker;
  if (w == nullptr || &w->rt != this) {
    // Counted while this thread still uses the runtime: once pushed, the task may run and end and
    // the runtime shut down before notify_parked returns, so shutdown waits for the count.
    // Relaxed: the push (inject's lock) orders it before the task can run, let alone end.
    foreign_posts_.fetch_add(1, std::memory_order_relaxed);
    if (inject_.push(h)) notify_parked();  // refused only after the workers are joined
    // Release: this thread's last use of the runtime happens before shutdown frees it.
    foreign_posts_.fetch_sub(1, std::memory_order_release);
    return;
  }
  if (seed_ != 0) {
    switch (next_random(*w) % 3) {
      case 0:
        break;
      case 1:
        w->queue.push_back(h, inject_);
        notify_parked();
        return;
      default:
        (void)inject_.push(h);
        notify_parked();
        return;
    }
  }
  // The newest wake runs next; the one it displaces becomes stealable.
  if (std::coroutine_handle<> displaced = std::exchange(w->lifo, h)) {
    w->queue.push_back(displaced, inject_);
    notify_parked();
  }
}

void runtime_core::start(spawn_promise_base& t) noexcept {
  tasks_.add(t);
  worker* w = current_worker;
  if (w == nullptr || &w->rt != this || seed_ != 0) return post(t.self());
  if (w->spawned_count == worker::spawn_capacity) spill_oldest_spawn(*w);
  w->spawned[w->spawned_count++] = t.self();
  // Keep one in the ring for other workers to steal (the oldest: the largest subtree).
  if (workers_.size() > 1 && w->queue.is_empty()) spill_oldest_spawn(*w);
}

void runtime_core::spill_oldest_spawn(worker& w) noexcept {
  w.queue.push_back(w.spawned[0], inject_);
  std::copy(w.spawned + 1, w.spawned + w.spawned_count, w.spawned);
  --w.spawned_count;
  notify_parked();
}

bool runtime_core::take_start(worker& w, spawn_promise_base& t) noexcept {
  for (unsigned i = w.spawned_count; i-- > 0;) {
    if (w.spawned[i] == t.self()) {
      std::copy(w.spawned + i + 1, w.spawned + w.spawned_count, w.spawned + i);
      --w.spawned_count;
      return true;
    }
  }
  if (w.lifo != t.self()) return false;
  w.lifo = {};
  return true;
}

std::coroutine_handle<> runtime_core::join_start(spawn_promise_base& t,
                                                 std::coroutine_handle<> joiner,
                                                 cancel_state* joiner_cancel) {
  worker* w = current_worker;
  if (w == nullptr || &w->rt != this) [[unlikely]] spawn_promise_base::throw_joined_elsewhere();
  if (take_start(*w, t)) return t.join_help(joiner, joiner_cancel, false);
  return t.join_wait(joiner, joiner_cancel);
}

void runtime_core::post_yield(std::coroutine_handle<> h) noexcept {
  worker* w = current_worker;
  if (w == nullptr || &w->rt != this) return post(h);
  w->queue.push_back(h, inject_);
  notify_parked();
}

void runtime_core::post_threadsafe(std::coroutine_handle<> h) {
  if (!on_worker() && inject_.is_closed()) {
    throw std::system_error(make_error_code(errc::closed), "coloop::runtime: shut down");
  }
  post(h);
}

void runtime_core::notify_parked() noexcept {
  if (!idle_.notify_should_wakeup()) return;
  try {
    if (auto i = idle_.worker_to_notify()) workers_[*i]->park.unpark();
  } catch (...) {
    // idle's list mutex failed to lock: a searcher or the next maintenance finds the work.
  }
}

void runtime_core::leave_searching(worker& w) noexcept {
  w.searching = false;
  if (idle_.transition_worker_from_searching()) notify_parked();
}

void runtime_core::maintenance(worker& w) {
  if (driver_taken_.exchange(true, std::memory_order_acquire)) return;
  worker_counters::bump(w.counters.driver_polls);
  driver_.drive(false);
  driver_taken_.store(false, std::memory_order_release);
}

// Inlined into run_worker, its one caller (g++ otherwise keeps it a call once it grows).
[[gnu::always_inline]] inline std::coroutine_handle<> runtime_core::next_task(worker& w) {
  const bool interval = --w.ticks_to_interval == 0;
  if (interval) {
    w.ticks_to_interval = worker::event_interval;
    maintenance(w);
  }
  const bool inject_first = seed_ != 0 ? next_random(w) % 7 == 0 : interval;
  if (inject_first) {
    if (std::coroutine_handle<> h = inject_.pop()) return h;
  }
  if (w.lifo) {
    if (w.lifo_streak < max_lifo_streak) {
      ++w.lifo_streak;
      worker_counters::bump(w.counters.lifo_polls);
      return std::exchange(w.lifo, {});
    }
    w.queue.push_back(std::exchange(w.lifo, {}), inject_);
    notify_parked();
  }
  w.lifo_streak = 0;
  if (w.spawned_count > 0) return w.spawned[--w.spawned_count];  // newest spawn first
  if (std::coroutine_handle<> h = w.queue.pop()) return h;
  if (!inject_.is_empty()) return inject_.pop_into(w.queue, local_queue::capacity / 2);
  return {};
}

std::coroutine_handle<> runtime_core::steal(worker& w) {
  if (!w.searching) {
    if (!idle_.transition_worker_to_searching()) return {};
    w.searching = true;
  }
  const std::size_t n = workers_.size();
  const std::size_t start = static_cast<std::size_t>(next_random(w) % n);
  for (std::size_t i = 0; i < n; ++i) {
    worker& victim = *workers_[(start + i) % n];
    if (&victim == &w) continue;
    if (std::coroutine_handle<> h = victim.queue.steal_into(w.queue)) {
      worker_counters::bump(w.counters.steals);
      return h;
    }
  }
  return inject_.pop_into(w.queue, local_queue::capacity / 2);
}

bool runtime_core::has_visible_work(const worker& self) const noexcept {
  if (!inject_.is_empty()) return true;
  for (const auto& w : workers_) {
    if (w.get() != &self && !w->queue.is_empty()) return true;
  }
  return false;
}

void runtime_core::park(worker& w) {
  const bool last_searcher = idle_.transition_worker_to_parked(w.index, w.searching);
  w.searching = false;
  if ((last_searcher && has_visible_work(w)) || stop_.load(std::memory_order_acquire)) {
    if (!idle_.unpark_worker_by_id(w.index)) w.searching = true;  // a notifier counted us
    return;
  }
  // Manual clock: virtual time may only jump when nothing runs anywhere.
  const bool may_drive = !manual_clock_ || idle_.num_parked() == workers_.size();
  worker_counters::bump(w.counters.parks);
  // seq_cst, here and after the park: pairs with collect_tasks' store of dump_pause_ and load of
  // `active` (each side writes, then reads the other's flag).
  w.active.store(false, std::memory_order_seq_cst);
  if (may_drive && !driver_taken_.exchange(true, std::memory_order_acquire)) {
    worker_counters::bump(w.counters.driver_polls);
    w.park.park_on_driver([this] { driver_.drive(true); });
    driver_taken_.store(false, std::memory_order_release);
  } else {
    w.park.park();
  }
  w.active.store(true, std::memory_order_seq_cst);
  if (dump_pause_.load(std::memory_order_seq_cst)) pause_for_dump(w);
  // Still in the parked set: woken by the driver or shutdown, not searching. Otherwise a
  // notifier took us out and counted us as searching.
  if (!idle_.unpark_worker_by_id(w.index)) w.searching = true;
}

void runtime_core::pause_for_dump(worker& w, std::coroutine_handle<> held) {
  std::unique_lock lock(pause_mutex_);
  w.held = held;
  // release: a dump that sees it set reads `held` and the LIFO slot, written before.
  w.paused_for_dump.store(true, std::memory_order_release);
  for (;;) {
    w.active.store(false, std::memory_order_seq_cst);
    pause_cv_.wait(lock, [this] { return !dump_pause_.load(std::memory_order_relaxed); });
    // seq_cst, as in park: a dump that began after the wait saw this worker inactive only if
    // this load sees its flag.
    w.active.store(true, std::memory_order_seq_cst);
    if (!dump_pause_.load(std::memory_order_seq_cst)) break;
  }
  // relaxed: the dumps that read `held` ended under pause_mutex_, which this thread holds.
  w.paused_for_dump.store(false, std::memory_order_relaxed);
}

void runtime_core::collect_queued(queued_frames& out) const {
  for (const auto& w : workers_) {
    // Its own worker's queues are the dumping thread's; another's only once paused (a parked one
    // may be posting from the driver: its LIFO slot is left out, so a task woken by I/O or a
    // timer while the dump runs may show suspended). acquire: pairs with pause_for_dump.
    if (w.get() == current_worker || w->paused_for_dump.load(std::memory_order_acquire)) {
      if (w.get() != current_worker) out.add(w->held);
      out.add(w->lifo);
    }
    // Its spawn stack holds first steps only: not-started tasks, which stay not_started.
    w->queue.for_each([&out](std::coroutine_handle<> h) { out.add(h); });
  }
  inject_.for_each([&out](std::coroutine_handle<> h) { out.add(h); });
  out.seal();
}

void runtime_core::dump_on_signal() {
  try {
    std::vector<task_info> tasks;
    collect_tasks(tasks);
    log_task_dump("a runtime", tasks);
  } catch (...) {
  }
}

void runtime_core::collect_tasks(std::vector<task_info>& out) {
  constexpr auto dump_pause_limit = std::chrono::seconds(1);
  std::lock_guard one_dump(dump_mutex_);
  dump_pause_.store(true, std::memory_order_seq_cst);
  const auto give_up = std::chrono::steady_clock::now() + dump_pause_limit;
  for (auto& w : workers_) {
    if (w.get() == current_worker) continue;  // the dumping task's own worker
    while (w->active.load(std::memory_order_seq_cst) &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::yield();
    }
  }
  struct resume_workers {
    runtime_core& rt;
    ~resume_workers() {
      {
        std::lock_guard lock(rt.pause_mutex_);
        // release: a worker waking from park reads it without the mutex, and must see the
        // dump's reads done before it writes the records again.
        rt.dump_pause_.store(false, std::memory_order_release);
      }
      rt.pause_cv_.notify_all();
    }
  } resume{*this};
  // A worker still in its step may be writing any task's records: then none is read.
  bool all_paused = true;
  for (auto& w : workers_) {
    if (w.get() != current_worker && w->active.load(std::memory_order_seq_cst)) all_paused = false;
  }
  void* const own_step[1] = {current_worker != nullptr && &current_worker->rt == this
                                 ? current_worker->step_frame.load(std::memory_order_relaxed)
                                 : nullptr};
  queued_frames queued;
  if (all_paused) collect_queued(queued);
  // Under the registry's locks no task can end, so no frame is freed while it is read.
  tasks_.for_each([&](const spawn_promise_base& t) {
    out.push_back(all_paused ? snapshot_task(t, own_step, queued) : snapshot_task_unread(t));
  });
}

void runtime_core::debug_step(worker& w, std::coroutine_handle<> h) {
  worker::debug_marks& d = w.debug;
  const std::int64_t now = monotonic_ns();
  std::int64_t queued_at = now;  // unknown: stolen, from the inject queue, a first step
  const std::uint32_t head = w.queue.head_position();
  if (h.address() == d.lifo) {
    queued_at = d.step_start;  // woken in its last step: ready since that step began at most
  } else if (head != d.ring_head && w.queue.slot_at(head - 1) == h.address()) {
    queued_at = d.ring.queued_at(head - 1, now);  // it just took this one from its ring
  }
  d.ring_head = head;
  debug_step_begin(now, now - queued_at);
  resume_step(h);
  debug_step_end(*this);
  // What this step queued was queued since it began (so was a batch stolen or taken from the
  // inject queue before it: timed from here, a lower bound).
  d.ring.mark(w.queue.head_position(), w.queue.tail_position(), now);
  d.lifo = w.lifo.address();
  d.step_start = now;
}

void runtime_core::run_worker(worker& w) {
  current_worker = &w;
  task_shard_of_thread = 1 + static_cast<unsigned>(w.index % 15);
  scheduler_scope sched(this);
  set_current_context(this);
  this_thread.debug = debug();
  while (!stop_.load(std::memory_order_relaxed)) {
    std::coroutine_handle<> h = next_task(w);
    if (!h) h = steal(w);
    if (!h) {
      park(w);
      continue;
    }
    if (w.searching) leave_searching(w);
    worker_counters::bump(w.counters.polls);
    // relaxed: collect_tasks waits for this worker to see it (and pause) anyway.
    if (dump_pause_.load(std::memory_order_relaxed)) [[unlikely]] pause_for_dump(w, h);
    // relaxed: a dump reads it only once this worker paused, or gave up waiting for it to.
    w.step_frame.store(h.address(), std::memory_order_relaxed);
    if (debug()) [[unlikely]] {
      debug_step(w, h);
    } else {
      resume_step(h);
    }
  }
  if (w.searching) leave_searching(w);
  current_worker = nullptr;
  set_current_context(nullptr);
}

}  // namespace coloop::detail::mt

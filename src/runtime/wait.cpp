// wait / as_completed / shield: the watch_set (see include/coloop/detail/watch.hpp).
//
// Each watched root gets a watcher coroutine registered with join_suspend(watcher, nullptr) and
// one extra reference on the root. The watcher runs on whichever thread finishes the task
// (inline, by symmetric transfer from the root's end), records the index under `mutex_` and
// wakes the waiter by posting it. Withdrawing races that end through join_withdraw: whoever
// wins owns the watcher (the owner destroys an unstarted frame; a started one frees itself).
// The set is freed by the last of {its owner, the watchers still to run}, decided under the
// lock. The waiter's two cancel slots (its task's cancel_state and wait's deadline) live here;
// the waiter disarms both in watch_resume, so a slot is alive whenever a canceller can reach it.

#include <coloop/detail/promise_base.hpp>
#include <coloop/detail/watch.hpp>
#include <coloop/runtime/wait.hpp>
#include <coloop/runtime/wait_for.hpp>

#include <mutex>
#include <stdexcept>
#include <string>

namespace coloop::detail {

// The watch_* functions below are its interface (detail/watch.hpp); the fields are theirs.
class watch_set {
 public:
  struct slot : cancel_slot {
    watch_set* owner;
    watch_outcome why;
  };
  struct entry {
    spawn_promise_base* root = nullptr;
    std::coroutine_handle<> watcher;  // armed and not yet run or withdrawn
  };

  explicit watch_set(std::size_t n) : entries(n) { order.reserve(n); }

  bool satisfied(std::size_t want, bool on_failure) const noexcept {
    return order.size() >= want || (on_failure && failed);
  }
  /// Under the lock: root `i` (`r`) finished.
  void record(std::size_t i, const spawn_promise_base& r) noexcept {
    order.push_back(i);
    if (r.error_ && !is_cancellation(r.error_)) failed = true;
  }
  void arm(const std::vector<spawn_promise_base*>& roots, const char* api);
  void notify(std::size_t i) noexcept;
  static cancel_outcome on_cancel(cancel_slot* self) noexcept {
    auto* s = static_cast<slot*>(self);
    watch_set& w = *s->owner;
    std::lock_guard lock(w.mutex);
    if (!w.waiter) return cancel_outcome::completed();  // already woken: the request stays
    w.outcome = s->why;
    return {std::exchange(w.waiter, {}), w.waiter_on};
  }

  std::mutex mutex;
  std::vector<entry> entries;
  std::vector<std::size_t> order;  // indices, in the order their tasks finished
  std::size_t refs = 1;            // the owner + watchers that will run
  bool failed = false;
  std::coroutine_handle<> waiter;
  scheduler* waiter_on = nullptr;
  std::size_t wanted = 0;  // the waiter's satisfied() arguments
  bool wanted_on_failure = false;
  watch_outcome outcome = watch_outcome::ready;
  cancel_state* parent_cancel = nullptr;
  cancel_state* timer_cancel = nullptr;
  slot parent_slot{{&on_cancel}, this, watch_outcome::cancelled};
  slot timer_slot{{&on_cancel}, this, watch_outcome::timed_out};
};

void check_watchable(const std::vector<spawn_promise_base*>& roots, const char* api) {
  for (std::size_t i = 0; i < roots.size(); ++i) {
    auto fail = [&](const char* why) {
      throw std::logic_error(std::string(api) + ": handle " + std::to_string(i) + why);
    };
    if (roots[i] == nullptr) fail(" is empty (detached or moved-from)");
    if (roots[i]->taken_) fail(" was already joined with co_await std::move(handle)");
    // relaxed: the bit is set by a task awaiting the handle, which the caller's task must have
    // handed it to earlier (join_handle's one-task rule); as check_joinable.
    if (!roots[i]->is_done() &&
        (roots[i]->state_.load(std::memory_order_relaxed) & spawn_promise_base::joiner_bit) != 0) {
      fail(" is awaited by another task");
    }
  }
}

namespace {
struct watcher {
  struct promise_type : promise_base {  // pooled frames, lazy start
    watcher get_return_object() noexcept {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_never final_suspend() const noexcept { return {}; }  // frees itself
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
  std::coroutine_handle<promise_type> h;
};

watcher run_watcher(watch_set* s, std::size_t i) {
  s->notify(i);
  co_return;
}

/// Owns the set for wait_on's frame, whether it returns, throws or is destroyed suspended.
struct watch_guard {
  watch_set* s;
  ~watch_guard() { watch_destroy(s); }
};
}  // namespace

void watch_set::arm(const std::vector<spawn_promise_base*>& roots, const char* api) {
  check_watchable(roots, api);
  for (std::size_t i = 0; i < roots.size(); ++i) {
    spawn_promise_base& r = *roots[i];
    entries[i].root = &r;
    if (r.is_done()) {
      std::lock_guard lock(mutex);
      record(i, r);
      continue;
    }
    std::coroutine_handle<> w = run_watcher(this, i).h;
    r.add_ref();  // keeps the frame past a dropped handle
    {
      std::lock_guard lock(mutex);
      entries[i].watcher = w;
      ++refs;
    }
    if (!r.join_suspend(w, nullptr)) {  // finished meanwhile: record it here
      std::lock_guard lock(mutex);
      entries[i].watcher = {};
      --refs;
      record(i, r);
      w.destroy();
      r.release();
    }
  }
}

void watch_set::notify(std::size_t i) noexcept {
  spawn_promise_base* root = nullptr;
  std::coroutine_handle<> w;
  scheduler* on = nullptr;
  bool free = false;
  {
    std::lock_guard lock(mutex);
    entry& e = entries[i];
    root = e.root;
    e.watcher = {};  // this frame ends with this call
    // The root's outcome was published to this thread by its own end (the watcher runs there).
    record(i, *root);
    if (waiter && satisfied(wanted, wanted_on_failure)) {
      w = std::exchange(waiter, {});
      on = waiter_on;
    }
    free = --refs == 0;
  }
  root->release();
  if (w) post_from_any_thread(on, w);
  if (free) delete this;
}

watch_set* watch_create(const std::vector<spawn_promise_base*>& roots, const char* api) {
  auto* s = new watch_set(roots.size());
  try {
    s->arm(roots, api);
  } catch (...) {
    watch_destroy(s);
    throw;
  }
  return s;
}

void watch_destroy(watch_set* s) noexcept {
  bool free = false;
  {
    std::lock_guard lock(s->mutex);
    s->waiter = {};
    for (watch_set::entry& e : s->entries) {
      if (!e.watcher) continue;
      // Under the lock: a watcher that lost the race blocks in notify() until we let go.
      if (e.root->join_withdraw()) {
        e.watcher.destroy();
        e.watcher = {};
        e.root->release();  // never the last: the task's own reference is still held
        --s->refs;
      }
    }
    free = --s->refs == 0;
  }
  if (free) delete s;
}

bool watch_ready(watch_set& s, std::size_t want, bool on_failure) noexcept {
  std::lock_guard lock(s.mutex);
  return s.satisfied(want, on_failure);
}

bool watch_suspend(watch_set& s, std::coroutine_handle<> waiter, cancel_state* cancel,
                   cancel_state* timer, std::size_t want, bool on_failure) {
  std::lock_guard lock(s.mutex);
  s.outcome = watch_outcome::ready;
  if (s.satisfied(want, on_failure)) return false;
  if (cancel != nullptr && !cancel->arm(&s.parent_slot)) {
    s.outcome = watch_outcome::cancelled;
    return false;
  }
  s.parent_cancel = cancel;
  if (timer != nullptr && !timer->arm(&s.timer_slot)) {
    s.outcome = watch_outcome::timed_out;
    return false;  // watch_resume disarms the parent's slot
  }
  s.timer_cancel = timer;
  s.waiter = waiter;
  s.waiter_on = current_scheduler();
  s.wanted = want;
  s.wanted_on_failure = on_failure;
  return true;
}

watch_outcome watch_resume(watch_set& s) noexcept {
  cancel_state* cancel = nullptr;
  cancel_state* timer = nullptr;
  watch_outcome out;
  {
    std::lock_guard lock(s.mutex);
    cancel = std::exchange(s.parent_cancel, nullptr);
    timer = std::exchange(s.timer_cancel, nullptr);
    out = std::exchange(s.outcome, watch_outcome::ready);
  }
  // Outside the lock: disarm may wait for a canceller inside on_cancel, which takes it.
  if (cancel != nullptr) cancel->disarm();
  if (timer != nullptr) timer->disarm();
  return out;
}

void watch_abandon(watch_set& s) noexcept {
  {
    std::lock_guard lock(s.mutex);
    s.waiter = {};
  }
  watch_resume(s);
}

std::size_t watch_at(watch_set& s, std::size_t n) noexcept {
  std::lock_guard lock(s.mutex);
  return s.order[n];
}
std::size_t watch_count(watch_set& s) noexcept { return s.entries.size(); }

task<wait_result> wait_on(std::vector<spawn_promise_base*> roots, std::optional<duration> timeout,
                          return_when when) {
  watch_guard guard{watch_create(roots, "coloop::wait")};
  const std::size_t want = when == return_when::first_completed ? 1 : roots.size();
  const bool on_failure = when == return_when::first_exception;
  cancel_state deadline;
  std::optional<deadline_timer> timer;
  if (timeout) timer.emplace(*timeout, deadline);
  // Named, not a braced temporary in the co_await operand (g++ 12; see DESIGN.md §9).
  watch_awaiter awaiter{guard.s, timer ? &deadline : nullptr, want, on_failure};
  const watch_outcome out = co_await awaiter;
  timer.reset();
  if (out == watch_outcome::cancelled) throw_cancelled();
  wait_result r;
  for (std::size_t i = 0; i < roots.size(); ++i) {
    (roots[i]->is_done() ? r.done : r.pending).push_back(i);
  }
  co_return r;
}

}  // namespace coloop::detail

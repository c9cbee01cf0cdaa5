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

#include <coloop/detail/watch.hpp>
#include <coloop/runtime/wait.hpp>
#include <coloop/runtime/wait_for.hpp>

#include <mutex>
#include <stdexcept>
#include <string>

namespace coloop::detail {

namespace {
struct watcher {
  struct promise_type {
    static void* operator new(std::size_t size) { return frame_allocate(size); }
    static void operator delete(void* frame, std::size_t size) noexcept {
      frame_deallocate(frame, size);
    }
    watcher get_return_object() noexcept {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    std::suspend_never final_suspend() const noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
  std::coroutine_handle<promise_type> h;
};
}  // namespace

class watch_set {
 public:
  struct slot : cancel_slot {
    watch_set* owner;
    watch_outcome why;
  };

  explicit watch_set(std::size_t n) : entries_(n) { order_.reserve(n); }

  void arm(const std::vector<spawn_promise_base*>& roots, const char* api);
  void destroy() noexcept;
  void notify(std::size_t i) noexcept;

  bool ready(std::size_t want, bool on_failure) noexcept {
    std::lock_guard lock(mutex_);
    return satisfied(want, on_failure);
  }
  bool suspend(std::coroutine_handle<> waiter, cancel_state* cancel, cancel_state* timer,
               std::size_t want, bool on_failure) {
    std::lock_guard lock(mutex_);
    outcome_ = watch_outcome::ready;
    if (satisfied(want, on_failure)) return false;
    parent_cancel_ = cancel;
    timer_cancel_ = timer;
    if (cancel != nullptr && !cancel->arm(&parent_slot_)) {
      parent_cancel_ = nullptr;
      outcome_ = watch_outcome::cancelled;
      return false;
    }
    if (timer != nullptr && !timer->arm(&timer_slot_)) {
      timer_cancel_ = nullptr;
      outcome_ = watch_outcome::timed_out;
      return false;  // watch_resume disarms the parent's slot
    }
    waiter_ = waiter;
    waiter_on_ = current_scheduler();
    want_ = want;
    on_failure_ = on_failure;
    return true;
  }
  watch_outcome resume() noexcept {
    cancel_state* cancel = nullptr;
    cancel_state* timer = nullptr;
    watch_outcome out;
    {
      std::lock_guard lock(mutex_);
      cancel = std::exchange(parent_cancel_, nullptr);
      timer = std::exchange(timer_cancel_, nullptr);
      out = std::exchange(outcome_, watch_outcome::ready);
    }
    // Outside the lock: disarm may wait for a canceller inside on_cancel, which takes it.
    if (cancel != nullptr) cancel->disarm();
    if (timer != nullptr) timer->disarm();
    return out;
  }
  void abandon() noexcept {
    {
      std::lock_guard lock(mutex_);
      waiter_ = {};
    }
    resume();
  }
  std::size_t at(std::size_t n) noexcept {
    std::lock_guard lock(mutex_);
    return order_[n];
  }
  std::size_t count() const noexcept { return entries_.size(); }

 private:
  struct entry {
    spawn_promise_base* root = nullptr;
    std::coroutine_handle<> watcher;  // armed and not yet run or withdrawn
  };
  bool satisfied(std::size_t want, bool on_failure) const noexcept {
    return order_.size() >= want || (on_failure && failed_);
  }
  /// Under the lock: root `i` (`r`) finished.
  void record(std::size_t i, const spawn_promise_base& r) noexcept {
    order_.push_back(i);
    if (r.error_ && !is_cancellation(r.error_)) failed_ = true;
  }
  static cancel_outcome on_cancel(cancel_slot* self) noexcept {
    auto* s = static_cast<slot*>(self);
    watch_set& w = *s->owner;
    std::lock_guard lock(w.mutex_);
    if (!w.waiter_) return cancel_outcome::completed();  // already woken: the request stays
    w.outcome_ = s->why;
    return {std::exchange(w.waiter_, {}), w.waiter_on_};
  }

  std::mutex mutex_;
  std::vector<entry> entries_;
  std::vector<std::size_t> order_;  // indices, in the order their tasks finished
  std::size_t refs_ = 1;            // the owner + watchers that will run
  bool failed_ = false;
  std::coroutine_handle<> waiter_;
  scheduler* waiter_on_ = nullptr;
  std::size_t want_ = 0;
  bool on_failure_ = false;
  watch_outcome outcome_ = watch_outcome::ready;
  cancel_state* parent_cancel_ = nullptr;
  cancel_state* timer_cancel_ = nullptr;
  slot parent_slot_{{&on_cancel}, this, watch_outcome::cancelled};
  slot timer_slot_{{&on_cancel}, this, watch_outcome::timed_out};
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
watcher run_watcher(watch_set* s, std::size_t i) {
  s->notify(i);
  co_return;
}
}  // namespace

void watch_set::arm(const std::vector<spawn_promise_base*>& roots, const char* api) {
  check_watchable(roots, api);
  for (std::size_t i = 0; i < roots.size(); ++i) {
    spawn_promise_base& r = *roots[i];
    entries_[i].root = &r;
    if (r.is_done()) {
      std::lock_guard lock(mutex_);
      record(i, r);
      continue;
    }
    std::coroutine_handle<> w = run_watcher(this, i).h;
    r.add_ref();  // keeps the frame past a dropped handle
    {
      std::lock_guard lock(mutex_);
      entries_[i].watcher = w;
      ++refs_;
    }
    if (!r.join_suspend(w, nullptr)) {  // finished meanwhile: record it here
      std::lock_guard lock(mutex_);
      entries_[i].watcher = {};
      --refs_;
      record(i, r);
      w.destroy();
      r.release();
    }
  }
}

void watch_set::notify(std::size_t i) noexcept {
  spawn_promise_base* root = nullptr;
  std::coroutine_handle<> waiter;
  scheduler* on = nullptr;
  bool free = false;
  {
    std::lock_guard lock(mutex_);
    entry& e = entries_[i];
    root = e.root;
    e.watcher = {};  // this frame ends with this call
    // The root's outcome was published to this thread by its own end (the watcher runs there).
    record(i, *root);
    if (waiter_ && satisfied(want_, on_failure_)) {
      waiter = std::exchange(waiter_, {});
      on = waiter_on_;
    }
    free = --refs_ == 0;
  }
  root->release();
  if (waiter) post_from_any_thread(on, waiter);
  if (free) delete this;
}

void watch_set::destroy() noexcept {
  bool free = false;
  {
    std::lock_guard lock(mutex_);
    waiter_ = {};
    for (entry& e : entries_) {
      if (!e.watcher) continue;
      // Under the lock: a watcher that lost the race blocks in notify() until we let go.
      if (e.root->join_withdraw()) {
        e.watcher.destroy();
        e.watcher = {};
        e.root->release();  // never the last: the task's own reference is still held
        --refs_;
      }
    }
    free = --refs_ == 0;
  }
  if (free) delete this;
}

watch_set* watch_create(const std::vector<spawn_promise_base*>& roots, const char* api) {
  auto* s = new watch_set(roots.size());
  try {
    s->arm(roots, api);
  } catch (...) {
    s->destroy();
    throw;
  }
  return s;
}
void watch_destroy(watch_set* s) noexcept { s->destroy(); }
bool watch_ready(watch_set& s, std::size_t want, bool on_failure) noexcept {
  return s.ready(want, on_failure);
}
bool watch_suspend(watch_set& s, std::coroutine_handle<> waiter, cancel_state* cancel,
                   cancel_state* timer, std::size_t want, bool on_failure) {
  return s.suspend(waiter, cancel, timer, want, on_failure);
}
watch_outcome watch_resume(watch_set& s) noexcept { return s.resume(); }
void watch_abandon(watch_set& s) noexcept { s.abandon(); }
std::size_t watch_at(watch_set& s, std::size_t n) noexcept { return s.at(n); }
std::size_t watch_count(watch_set& s) noexcept { return s.count(); }

namespace {
/// Owns the set for wait_on's frame, whether it returns, throws or is destroyed suspended.
struct watch_guard {
  watch_set* s;
  ~watch_guard() { s->destroy(); }
};
}  // namespace

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

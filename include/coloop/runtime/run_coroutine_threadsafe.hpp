#pragma once
// run_coroutine_threadsafe: start a task on an event loop from another thread and wait for it
// there with a blocking handle (asyncio.run_coroutine_threadsafe / concurrent.futures.Future).

#include <atomic>
#include <chrono>
#include <coloop/core/task.hpp>
#include <coloop/detail/result.hpp>
#include <coloop/runtime/event_loop.hpp>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <utility>

namespace coloop {

namespace detail {

/// Shared by a concurrent_future (any thread) and the task publishing into it (the loop's thread).
class concurrent_state_base {
 public:
  explicit concurrent_state_base(event_loop& loop) noexcept : loop_(&loop) {}
  bool done() const noexcept { return done_flag_.load(std::memory_order_acquire); }
  void wait() const;
  bool wait_until(std::chrono::steady_clock::time_point deadline) const;
  /// Any thread: asks the loop to cancel the task; false when it is done or the loop closed.
  static bool request_cancel(const std::shared_ptr<concurrent_state_base>& self);

  // Loop thread only.
  void attach(cancel_state* target) noexcept;  // the task started: route cancels to it
  void deliver_cancel() noexcept;
  void detach_on_loop() noexcept;  // the task's frame is gone: settle with cancelled_error if unset
  bool cancel_requested() const noexcept {
    return cancel_requested_.load(std::memory_order_acquire);
  }

 protected:
  ~concurrent_state_base() = default;
  /// Stores the outcome through `store` unless one is there; first wins.
  template <class Store>
  void settle(Store&& store) {
    {
      std::lock_guard lock(mutex_);
      if (done_) return;
      store();
      done_ = true;
      done_flag_.store(true, std::memory_order_release);  // pairs with done()'s acquire
    }
    ready_.notify_all();
  }
  virtual void set_cancelled() noexcept = 0;

 private:
  event_loop* loop_;
  mutable std::mutex mutex_;
  mutable std::condition_variable ready_;
  bool done_ = false;  // guarded by mutex_
  std::atomic<bool> done_flag_{false};
  std::atomic<bool> cancel_requested_{false};
  cancel_state* target_ = nullptr;  // loop thread
  bool cancel_sent_ = false;        // loop thread
};

template <class T>
class concurrent_state final : public concurrent_state_base {
 public:
  using concurrent_state_base::concurrent_state_base;
  template <class... Args>
  void set_value(Args&&... args) {
    settle([&] { out_.set_value(std::forward<Args>(args)...); });
  }
  void set_exception(std::exception_ptr e) noexcept {
    settle([&]() noexcept { out_.set_exception(std::move(e)); });
  }
  result<T> out_;  // read by the future once done (the mutex orders it)

 private:
  void set_cancelled() noexcept override {
    set_exception(std::make_exception_ptr(cancelled_error()));
  }
};

/// The loop side's reference: settles the future with cancelled_error if the task (or the
/// callback that was to start it) is destroyed before publishing, as when the loop closes.
template <class T>
class publisher {
 public:
  explicit publisher(std::shared_ptr<concurrent_state<T>> s) noexcept : s_(std::move(s)) {}
  publisher(publisher&&) noexcept = default;
  publisher& operator=(publisher&&) = delete;
  ~publisher() {
    if (s_) s_->detach_on_loop();
  }
  concurrent_state<T>& state() const noexcept { return *s_; }

 private:
  std::shared_ptr<concurrent_state<T>> s_;
};

struct [[nodiscard]] current_cancel_state {
  cancel_state* found = nullptr;
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
    found = cancel_state_of(h);
    return false;
  }
  cancel_state* await_resume() const noexcept { return found; }
};

template <class T>
task<void> publish_to(task<T> t, publisher<T> p) {
  concurrent_state<T>& s = p.state();
  s.attach(co_await current_cancel_state{});
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(t);
      s.set_value();
    } else {
      s.set_value(co_await std::move(t));
    }
  } catch (...) {
    s.set_exception(std::current_exception());
  }
}

template <class T>
struct starter {
  event_loop* loop;
  task<T> t;
  publisher<T> p;
  void operator()() {
    if (p.state().cancel_requested()) return;  // cancelled before it started: p settles it
    loop->create_task(publish_to(std::move(t), std::move(p))).detach();
  }
};

}  // namespace detail

/// The blocking handle of run_coroutine_threadsafe. Move-only; its members may be called from
/// any thread except the loop's own (waiting there would deadlock the loop).
template <class T>
class concurrent_future {
 public:
  concurrent_future() noexcept = default;
  explicit concurrent_future(std::shared_ptr<detail::concurrent_state<T>> s) noexcept
      : state_(std::move(s)) {}

  /// Whether the handle holds a result to get (false after get() or when default-constructed).
  bool valid() const noexcept { return static_cast<bool>(state_); }
  /// Whether the task has finished (value, exception or cancellation). Never blocks.
  bool done() const noexcept { return state_->done(); }
  /// Blocks until the task has finished.
  void wait() const { state_->wait(); }
  /// Blocks until the task has finished or `timeout` passes; true if it finished. Saturates: a
  /// timeout of 0 or less does not block, one of 10^9 s or more (hours::max()) has no limit.
  template <class Rep, class Period>
  bool wait_for(const std::chrono::duration<Rep, Period>& timeout) const {
    // Compared as seconds in double: converting an extreme timeout to the clock's ticks, or
    // adding it to now(), would overflow.
    const double seconds = std::chrono::duration<double>(timeout).count();
    if (seconds <= 0) return done();
    if (seconds >= 1e9) {
      wait();
      return true;
    }
    return state_->wait_until(std::chrono::steady_clock::now() +
                              std::chrono::ceil<std::chrono::steady_clock::duration>(timeout));
  }
  /// Blocks until the task has finished, then returns its value or rethrows its exception
  /// (cancelled_error if it was cancelled or its loop closed first). Once: valid() is false after.
  T get() {
    std::shared_ptr<detail::concurrent_state<T>> s = std::move(state_);
    s->wait();
    if constexpr (std::is_void_v<T> || std::is_reference_v<T>) {
      return s->out_.get();
    } else {
      return std::move(s->out_).get();
    }
  }
  /// Asks the loop to cancel the task (its pending or next co_await throws cancelled_error).
  /// Returns false when the task is already done or the loop is closed. Never blocks.
  bool cancel() { return detail::concurrent_state_base::request_cancel(state_); }

 private:
  std::shared_ptr<detail::concurrent_state<T>> state_;
};

/// Starts `t` on `loop` from any other thread (through call_soon_threadsafe and create_task) and
/// returns a handle to wait for its outcome. Throws std::system_error(errc::closed) if the loop is
/// closed. If the loop closes before the task finishes, the handle gets cancelled_error.
template <class T>
concurrent_future<T> run_coroutine_threadsafe(task<T> t, event_loop& loop) {
  if (!t.valid()) detail::throw_empty_task();
  auto state = std::make_shared<detail::concurrent_state<T>>(loop);
  loop.call_soon_threadsafe(detail::starter<T>{&loop, std::move(t), detail::publisher<T>(state)});
  return concurrent_future<T>(std::move(state));
}

}  // namespace coloop

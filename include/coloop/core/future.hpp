#pragma once
// future<T> / promise<T>: a one-shot value set from any thread and awaited on a loop
// (asyncio.Future, or a std::promise whose get() is co_await).

#include <atomic>
#include <coroutine>
#include <exception>
#include <memory>
#include <utility>

#include <coloop/detail/promise_base.hpp>
#include <coloop/detail/result.hpp>

namespace coloop {

template <class T>
class future;

namespace detail {

[[noreturn]] void throw_promise_already_satisfied();
[[noreturn]] void throw_future_misuse(const char* what);
/// Debug mode: a future's shared state goes with an exception nobody awaited (debug_report.cpp).
void debug_future_dropped(const std::exception_ptr& e) noexcept;

/// Shared by one promise and one future. The state word orders the hand-off between the setter
/// (any thread) and the single awaiter (its scheduler's thread).
class future_state_base : private cancel_slot {
 public:
  future_state_base() noexcept : cancel_slot{&on_cancel} {}
  bool ready() const noexcept {
    // Acquire: pairs with the setter's release so the result is visible once ready.
    return state_.load(std::memory_order_acquire) == ready_state;
  }
  /// Registers the awaiter; false when the value is already there (or a cancel was pending).
  bool suspend(std::coroutine_handle<> waiter, cancel_state* cancel);
  void claim_setter();   // throws if already set
  bool try_claim_setter() noexcept {
    return !set_claimed_.exchange(true, std::memory_order_relaxed);
  }
  void publish() noexcept;  // after the result is stored
  /// On the awaiter's thread as it resumes: throws cancelled_error if the await was withdrawn.
  void resumed();

 private:
  static cancel_outcome on_cancel(cancel_slot* self) noexcept;
  void lock() noexcept;
  void unlock() noexcept;
  static constexpr int empty_state = 0, waiting_state = 1, ready_state = 2;
  std::atomic<int> state_{empty_state};
  std::atomic<bool> lock_{false};
  bool cancelled_early_ = false;  // under lock_
  std::atomic<bool> set_claimed_{false};
  std::coroutine_handle<> waiter_;
  scheduler* scheduler_ = nullptr;
  cancel_state* cancel_ = nullptr;
  bool cancelled_ = false;

 public:
  bool retrieved_ = false;  // an await returned its result (the awaiter's thread)
};

template <class T>
class future_state : public future_state_base {
 public:
  ~future_state() {
    if (result_.has_exception() && !retrieved_ && debug_here()) [[unlikely]] {
      debug_future_dropped(result_.exception());
    }
  }
  result<T> result_;
};

template <class T>
struct [[nodiscard]] future_awaiter {
  future_state<T>* s;
  bool await_ready() const noexcept { return s->ready(); }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> waiter) {
    return s->suspend(waiter, cancel_state_of(waiter));
  }
  T await_resume() {
    s->resumed();
    s->retrieved_ = true;
    if constexpr (std::is_void_v<T> || std::is_reference_v<T>) {
      return s->result_.get();
    } else {
      return std::move(s->result_).get();
    }
  }
};

}  // namespace detail

/// The setting side. Destroying it unset sets errc::broken_promise on the future.
/// set_value / set_exception may be called from any thread, once; a second call throws
/// std::logic_error.
template <class T>
class promise {
 public:
  promise() : state_(std::make_shared<detail::future_state<T>>()) {}
  promise(promise&&) noexcept = default;
  promise& operator=(promise&& other) noexcept {
    if (this != &other) {
      abandon();
      state_ = std::move(other.state_);
      future_taken_ = std::exchange(other.future_taken_, false);
    }
    return *this;
  }
  ~promise() { abandon(); }

  /// The awaitable side; may be taken once (a second call throws std::logic_error).
  future<T> get_future() {
    if (!state_ || future_taken_)
      detail::throw_future_misuse("coloop::promise: future already taken");
    future_taken_ = true;
    return future<T>(state_);
  }

  template <class... Args>
  void set_value(Args&&... args) {
    if (!state_) detail::throw_future_misuse("coloop::promise: used after move");
    state_->claim_setter();
    state_->result_.set_value(std::forward<Args>(args)...);
    state_->publish();
  }
  void set_exception(std::exception_ptr e) {
    if (!state_) detail::throw_future_misuse("coloop::promise: used after move");
    state_->claim_setter();
    state_->result_.set_exception(std::move(e));
    state_->publish();
  }

 private:
  void abandon() noexcept {
    if (state_ && state_->try_claim_setter()) {
      state_->result_.set_exception(
          std::make_exception_ptr(std::system_error(make_error_code(errc::broken_promise))));
      state_->publish();
    }
    state_.reset();
  }
  std::shared_ptr<detail::future_state<T>> state_;
  bool future_taken_ = false;
};

/// The awaiting side: co_await yields the value or rethrows the exception. One awaiter at a time,
/// on a thread running an event_loop or sync_wait. Cancel-safe: a cancelled await leaves the
/// future intact, so it can be awaited again; a value set as the cancel lands is delivered.
template <class T>
class future {
 public:
  future() = default;
  /// Whether the value (or exception) is there.
  bool ready() const noexcept { return state_ && state_->ready(); }
  bool valid() const noexcept { return static_cast<bool>(state_); }

  auto operator co_await() {
    if (!state_) detail::throw_future_misuse("coloop::future: awaiting an empty future");
    return detail::future_awaiter<T>{state_.get()};
  }

 private:
  friend class promise<T>;
  explicit future(std::shared_ptr<detail::future_state<T>> s) noexcept : state_(std::move(s)) {}
  std::shared_ptr<detail::future_state<T>> state_;
};

}  // namespace coloop

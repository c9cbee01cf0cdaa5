#pragma once
// layer: runtime
// The root coroutine of a spawned task: it owns the user's task, gives it a cancel_state of its
// own, keeps the outcome for the join_handle and reports unobserved failures to its scheduler
// (the context: an event loop or a runtime).
// The frame is shared by the running task and the join_handle (refs_), freed by whoever is last.
// The task may finish on one thread while its handle is awaited, detached or dropped on another
// (runtime workers), so the hand-off is one atomic state word plus an atomic reference count.

#include <atomic>
#include <coroutine>
#include <exception>
#include <utility>

#include <coloop/core/task.hpp>

namespace coloop::detail {

class context;

class spawn_promise_base : public promise_base, private cancel_slot {
 public:
  spawn_promise_base() noexcept : cancel_slot{&on_joiner_cancel} { cancel_ = &own_cancel_; }
  void unhandled_exception() noexcept { error_ = std::current_exception(); }
  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      return self.promise().finished();
    }
    void await_resume() const noexcept {}
  };
  final_awaiter final_suspend() const noexcept { return {}; }
  void return_void() noexcept {}

  std::coroutine_handle<> finished() noexcept;
  /// Drops one reference (the task's or the handle's); the last frees the frame.
  void release() noexcept;

  bool is_done() const noexcept { return (state_.load(std::memory_order_acquire) & done_bit) != 0; }

  // join_handle operations (the handle's owner)
  void request_cancel() noexcept;
  void detach() noexcept;
  /// Throws std::logic_error if another task already awaits the handle.
  void check_joinable() const;
  bool join_suspend(std::coroutine_handle<> joiner, cancel_state* joiner_cancel) noexcept;
  void join_abandon() noexcept;  // the joiner's frame is destroyed while waiting
  /// Takes back a joiner registered without a cancel_state, racing the task's end on any thread:
  /// true if it will not be resumed; false if the task has finished and resumes (or resumed) it.
  bool join_withdraw() noexcept;
  void join_resume();            // rethrows the task's exception
  /// The loop is closing with the task unfinished: destroy its coroutines, mark it cancelled.
  virtual void abort() noexcept = 0;

  std::coroutine_handle<> self_;
  context* ctx_ = nullptr;  // the scheduler it runs on
  spawn_promise_base* prev_ = nullptr;  // task_registry links
  spawn_promise_base* next_ = nullptr;
  cancel_state own_cancel_;
  std::exception_ptr error_;
  std::coroutine_handle<> joiner_;
  cancel_state* joiner_cancel_ = nullptr;
  static constexpr unsigned char done_bit = 1, detached_bit = 2, joiner_bit = 4;
  std::atomic<unsigned> refs_{2};
  std::atomic<unsigned char> state_{0};
  bool error_observed_ = false;
  unsigned short shard_ = 0;  // the runtime's task-registry shard (its spawning worker's)
  bool joiner_cancel_forwarded_ = false;
  bool taken_ = false;  // co_await std::move(handle) took the outcome (the handle's owner only)

 protected:
  // Virtual only to keep -Wnon-virtual-dtor quiet now that spawn_promise<T> has a derived class
  // (task_group's children); frames are always destroyed through their own type.
  virtual ~spawn_promise_base() = default;

 private:
  static cancel_outcome on_joiner_cancel(cancel_slot* self) noexcept;
};

template <class T>
class spawned_root;

template <class T>
class spawn_promise : public spawn_promise_base {
 public:
  spawned_root<T> get_return_object() noexcept;
  /// Moves the finished inner task's outcome here and frees its frame early.
  void collect() noexcept {
    auto& out = inner_.handle().promise().outcome();
    if (out.has_exception()) {
      error_ = out.exception();
    } else if constexpr (std::is_void_v<T> || std::is_reference_v<T>) {
      if constexpr (std::is_void_v<T>) value_.set_value(); else value_.set_value(out.get());
    } else {
      try {
        value_.set_value(std::move(out).get());
      } catch (...) {  // a throwing move constructor
        error_ = std::current_exception();
      }
    }
    inner_ = task<T>{};
  }
  void abort() noexcept override {
    inner_ = task<T>{};
    error_ = std::make_exception_ptr(cancelled_error());
    state_.fetch_or(done_bit, std::memory_order_release);
  }
  task<T> inner_;
  result<T> value_;
};

template <class T>
class spawned_root {
 public:
  using promise_type = spawn_promise<T>;
  std::coroutine_handle<promise_type> handle;
};

template <class T>
spawned_root<T> spawn_promise<T>::get_return_object() noexcept {
  auto h = std::coroutine_handle<spawn_promise>::from_promise(*this);
  self_ = h;
  return {h};
}

/// Runs the inner task inside the root, under the root's cancel_state.
template <class T>
struct run_inner {
  spawn_promise<T>* p = nullptr;
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<spawn_promise<T>> root) noexcept {
    p = &root.promise();
    auto& inner = p->inner_.handle().promise();
    inner.continuation_ = root;
    inner.cancel_ = &p->own_cancel_;
    return transfer_to(p->inner_.handle());
  }
  void await_resume() const noexcept { p->collect(); }
};

template <class T>
spawned_root<T> spawn_root() {
  co_await run_inner<T>{};
}

/// Registers the root with `ctx` and queues its first step. Throws if `ctx` is closed.
void start_spawned(context& ctx, spawn_promise_base& root);

}  // namespace coloop::detail

#pragma once
// task<T>: a lazy, move-only coroutine that starts when awaited and resumes its awaiter by
// symmetric transfer when it finishes. A spawned task is the same frame: spawn builds its join
// state in the promise's spawn_ room (detail/spawned.hpp), so spawning adds no coroutine.

#include <coroutine>
#include <cstddef>
#include <exception>
#include <new>
#include <utility>

#include <coloop/detail/promise_base.hpp>
#include <coloop/detail/result.hpp>

namespace coloop {

template <class T = void>
class task;

namespace detail {

[[noreturn]] void throw_empty_task();
[[noreturn]] void throw_task_awaited_twice();

template <class T>
class task_promise_common : public promise_base {
 public:
  /// A spawned task closed with its loop keeps its memory while its join state is referenced
  /// (spawn_promise_base::abort): the one frame destroy() must not free.
  static void* operator new(std::size_t size) { return frame_allocate(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    // Relaxed: the thread keeping a frame sees its own increment; any other sees 0, or a count
    // that sends it to its own kept_frame, which is null.
    if (frames_being_kept.load(std::memory_order_relaxed) != 0 &&
        frame == this_thread.kept_frame) [[unlikely]] {
      this_thread.kept_size = size;
      return;
    }
    frame_deallocate(frame, size);
  }

  void unhandled_exception() noexcept { result_.set_exception(std::current_exception()); }
  result<T>& outcome() noexcept { return result_; }

  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      Promise& p = self.promise();
      if (p.continuation_) [[likely]] return transfer_to(p.continuation_);
      // Spawned: cancel_ is the join state's own cancel_state, its first member.
      if (static_cast<void*>(p.cancel_) == p.spawn_) {
        return std::launder(reinterpret_cast<spawn_header*>(p.spawn_))->finish(&p);
      }
      return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  final_awaiter final_suspend() const noexcept { return {}; }

  alignas(void*) std::byte spawn_[spawn_state_size];  // a join state once spawned, else unused

 protected:
  result<T> result_;
};

template <class T>
class task_promise final : public task_promise_common<T> {
 public:
  task<T> get_return_object() noexcept;
  template <class U = T>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) {
    this->result_.set_first_value(std::forward<U>(value));
  }
};

template <class T>
class task_promise<T&> final : public task_promise_common<T&> {
 public:
  task<T&> get_return_object() noexcept;
  void return_value(T& value) noexcept { this->result_.set_first_value(value); }
};

template <>
class task_promise<void> final : public task_promise_common<void> {
 public:
  task<void> get_return_object() noexcept;
  void return_void() noexcept { this->result_.set_first_value(); }
};

template <class T>
class task_awaiter {
 public:
  explicit task_awaiter(std::coroutine_handle<task_promise<T>> h) noexcept : h_(h) {}
  bool await_ready() const noexcept { return !h_ || h_.done(); }
  template <class Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) {
    auto& p = h_.promise();
    if (p.continuation_) [[unlikely]] throw_task_awaited_twice();
    p.continuation_ = awaiting;
    p.cancel_ = cancel_state_of(awaiting);
    return transfer_to(h_);
  }

 protected:
  result<T>& outcome() const {
    if (!h_) [[unlikely]] throw_empty_task();
    return h_.promise().outcome();
  }
  std::coroutine_handle<task_promise<T>> h_;
};

}  // namespace detail

/// A lazily started coroutine producing a T (or void, or a reference). Move-only. Awaiting it
/// runs it to completion inside the awaiting task (sharing its cancellation) and returns its value
/// or rethrows its exception. Awaiting an empty (moved-from) task throws std::logic_error.
/// Not thread-safe: a task is awaited from one thread at a time.
template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = detail::task_promise<T>;
  using value_type = T;
  using handle_type = std::coroutine_handle<promise_type>;

  task() noexcept = default;
  explicit task(handle_type h) noexcept : h_(h) {}
  task(task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      if (h_) h_.destroy();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() {
    if (h_) h_.destroy();
  }

  /// Whether this task holds a coroutine (false after a move).
  bool valid() const noexcept { return static_cast<bool>(h_); }
  /// Whether the coroutine has finished (true for an empty task).
  bool done() const noexcept { return !h_ || h_.done(); }

  auto operator co_await() & noexcept {
    struct awaiter : detail::task_awaiter<T> {
      using detail::task_awaiter<T>::task_awaiter;
      decltype(auto) await_resume() const { return this->outcome().get(); }
    };
    return awaiter{h_};
  }
  auto operator co_await() && noexcept {
    struct awaiter : detail::task_awaiter<T> {
      using detail::task_awaiter<T>::task_awaiter;
      T await_resume() const {
        if constexpr (std::is_reference_v<T> || std::is_void_v<T>) {
          return this->outcome().get();
        } else {
          return std::move(this->outcome()).get();
        }
      }
    };
    return awaiter{h_};
  }

  /// The coroutine, for combinators and schedulers (coloop-internal).
  handle_type handle() const noexcept { return h_; }
  /// Gives up ownership of the coroutine (coloop-internal).
  handle_type release() noexcept { return std::exchange(h_, {}); }

 private:
  handle_type h_;
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>{std::coroutine_handle<task_promise>::from_promise(*this)};
}
template <class T>
task<T&> task_promise<T&>::get_return_object() noexcept {
  return task<T&>{std::coroutine_handle<task_promise>::from_promise(*this)};
}
inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>{std::coroutine_handle<task_promise>::from_promise(*this)};
}
}  // namespace detail

}  // namespace coloop

#pragma once
// task<T>: a lazy, move-only coroutine that starts when awaited and resumes its awaiter by
// symmetric transfer when it finishes. A spawned task is the same frame: spawn builds its join
// state in the promise's spawn_ room (detail/spawned.hpp), so spawning adds no coroutine.

#include <coroutine>
#include <cstddef>
#include <exception>
#include <new>
#include <utility>

#include <coloop/detail/await_site.hpp>
#include <coloop/detail/promise_base.hpp>
#include <coloop/detail/result.hpp>

namespace coloop {

template <class T = void>
class task;

namespace detail {

[[noreturn]] void throw_empty_task();
[[noreturn]] void throw_task_awaited_twice();
/// Debug mode: a task destroyed unfinished (never started, or suspended); core/debug_report.cpp.
void debug_task_dropped(const await_record& r) noexcept;

/// The promise constructors' first parameter: a type no coroutine argument converts to.
struct created_tag {
  explicit created_tag() = default;
};

/// A task promise's first base: its await_record, which an awaiting task's record points to
/// and the awaiter finds the awaited promise from (task_awaiter).
struct recorded_promise {
  await_record record_;
};

template <class T>
class task_promise_common : public recorded_promise, public promise_base {
 public:
  /// A spawned task closed with its loop keeps its memory while its join state is referenced
  /// (spawn_promise_base::abort): the one frame destroy() must not free.
  static void* operator new(std::size_t size) { return frame_allocate(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    // Relaxed: the thread keeping a frame sees its own increment; any other sees 0, or a count
    // that sends it to its own kept_frame, which is null. Where the thread_local is one
    // instruction away, reading it is cheaper than the count.
    if ((COLOOP_DETAIL_LOCAL_EXEC_TLS || frames_being_kept.load(std::memory_order_relaxed) != 0) &&
        frame == this_thread.kept_frame) [[unlikely]] {
      this_thread.kept_size = size;
      return;
    }
    frame_deallocate(frame, size);
  }

  /// Debug mode reports a task destroyed unfinished. It is tested where a finished task's
  /// result is tested anyway (to destroy an exception), so a task that ended pays nothing more.
  ~task_promise_common() {
    if (!result_.has_value()) [[unlikely]] destroyed_without_value();
  }

  void unhandled_exception() noexcept { result_.set_exception(std::current_exception()); }
  result<T>& outcome() noexcept { return result_; }
  /// Whether spawn built a join state here: a task runs under its own cancel_state, the join
  /// state's first member, only when spawned.
  bool spawned() const noexcept { return static_cast<const void*>(cancel_) == spawn_; }

  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      Promise& p = self.promise();
      if (p.continuation_) [[likely]] return transfer_to(p.continuation_);
      if (p.spawned()) {
        return std::launder(reinterpret_cast<spawn_header*>(p.spawn_))->finish(&p);
      }
      // Every task that has ended has a continuation: task_awaiter tests for one alone.
      return p.continuation_ = std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  final_awaiter final_suspend() const noexcept { return {}; }

  /// Every co_await in a task records where it is and what it awaits (the task's async stack
  /// trace; a task's awaiter records the task it awaits once it suspends).
  template <class A>
  auto await_transform(A&& a, COLOOP_DETAIL_SITE_PARAMETERS) {
    record_.at = COLOOP_DETAIL_SITE_ARGUMENT;
    if constexpr (!awaits_task<A>) record_.template awaits_other<std::remove_cvref_t<A>>();
    return make_awaiter(std::forward<A>(a));
  }

  alignas(void*) std::byte spawn_[spawn_state_size];  // a join state once spawned, else unused

 protected:
  result<T> result_;

 private:
  [[gnu::noinline, gnu::cold]] void destroyed_without_value() const noexcept {
    // A spawned task is destroyed by its join state, unfinished only when its loop closes:
    // only a task a task<T> owns is reported.
    if (result_.empty() && debug_here() && !spawned()) {
      debug_task_dropped(record_);
    }
  }
};

template <class T>
class task_promise final : public task_promise_common<T> {
 public:
  /// Built by the coroutine (never with its arguments: nothing converts to the tag), so the
  /// defaults capture the coroutine function: where a dump of a task not started yet points.
  explicit task_promise(created_tag = created_tag{}, COLOOP_DETAIL_SITE_PARAMETERS) noexcept {
    this->record_.at = COLOOP_DETAIL_SITE_ARGUMENT;
  }
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
  /// As task_promise<T>'s.
  explicit task_promise(created_tag = created_tag{}, COLOOP_DETAIL_SITE_PARAMETERS) noexcept {
    this->record_.at = COLOOP_DETAIL_SITE_ARGUMENT;
  }
  task<T&> get_return_object() noexcept;
  void return_value(T& value) noexcept { this->result_.set_first_value(value); }
};

template <>
class task_promise<void> final : public task_promise_common<void> {
 public:
  /// As task_promise<T>'s.
  explicit task_promise(created_tag = created_tag{}, COLOOP_DETAIL_SITE_PARAMETERS) noexcept {
    this->record_.at = COLOOP_DETAIL_SITE_ARGUMENT;
  }
  task<void> get_return_object() noexcept;
  void return_void() noexcept { this->result_.set_first_value(); }
};

template <class T>
class task_awaiter {
  using handle = std::coroutine_handle<task_promise<T>>;

 public:
  using links_records = void;  // awaits_task: it records what it awaits itself
  explicit task_awaiter(handle h) noexcept : word_(reinterpret_cast<std::uintptr_t>(h.address())) {}
  bool await_ready() const noexcept { return word_ == 0; }  // empty: await_resume throws
  template <class Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) {
    const handle h = awaited();
    auto& p = h.promise();
    // A continuation is set once a task is awaited, and on its end (final_awaiter): so this one
    // test tells a task that is new from one that has ended or has another awaiter.
    if (p.continuation_) [[unlikely]] return awaited_again(h, awaiting);
    p.continuation_ = awaiting;
    p.cancel_ = cancel_state_of(awaiting);
    if constexpr (std::is_base_of_v<recorded_promise, Promise>) {
      await_record& parent = awaiting.promise().record_;
      parent.awaits_task(p.record_);
      word_ = reinterpret_cast<std::uintptr_t>(&parent) | suspended_in_task;
    }
    // Bounded on the way in as well as on the way back: where symmetric transfer is not a tail
    // call (ASan, -O0), awaits nested deeper than the budget bounce through the queue.
    return transfer_to(h);
  }

 protected:
  result<T>& outcome() const {
    handle h;
    if ((word_ & suspended_in_task) != 0) {
      // The awaiting task runs again: its record stops pointing to this task's, which is about
      // to be destroyed, and gives the awaited promise back.
      auto& parent = *reinterpret_cast<await_record*>(word_ & ~suspended_in_task);
      auto& awaited = *reinterpret_cast<recorded_promise*>(parent.state);
      parent.state = await_record::running;
      h = handle::from_promise(static_cast<task_promise<T>&>(awaited));
    } else {
      h = awaited();
      if (!h) [[unlikely]] throw_empty_task();
    }
    return h.promise().outcome();
  }

 private:
  handle awaited() const noexcept { return handle::from_address(reinterpret_cast<void*>(word_)); }
  /// An ended task resumes its awaiter at once (await_resume reads its outcome again).
  static std::coroutine_handle<> awaited_again(handle h, std::coroutine_handle<> awaiting) {
    if (!h.done()) throw_task_awaited_twice();
    return awaiting;
  }
  // The awaited frame's address; once suspended in a task, that task's record, tagged (records
  // are aligned): it leads back to the awaited promise, so the awaiter keeps one word.
  static constexpr std::uintptr_t suspended_in_task = 1;
  std::uintptr_t word_;
};

}  // namespace detail

/// A lazily started coroutine producing a T (or void, or a reference). Move-only. Awaiting it
/// runs it to completion inside the awaiting task (sharing its cancellation) and returns its value
/// or rethrows its exception. Awaiting an empty (moved-from) task, or one that another coroutine
/// awaits, throws std::logic_error; awaiting one that has ended gives its outcome again.
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
/// The frame of the task whose promise holds the join state at `room` (its spawn_). spawn_ and
/// the promise sit at the same places in the frame of every task_promise<T> aligned to 16 bytes
/// or less (spawn() accepts no other), so task_promise<void> stands for all of them.
inline std::coroutine_handle<> spawned_frame(const void* room) noexcept {
  using promise = task_promise<void>;
  constexpr std::size_t spawn_offset = sizeof(recorded_promise) + sizeof(promise_base);
  auto* p = reinterpret_cast<promise*>(const_cast<char*>(static_cast<const char*>(room)) -
                                       spawn_offset);
  return std::coroutine_handle<promise>::from_promise(*p);
}

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

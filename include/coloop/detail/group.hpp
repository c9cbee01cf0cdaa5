#pragma once
// layer: core
// The machinery behind when_all and when_any: each child runs as its own coroutine with its own
// cancel_state, started inline one after another; the group resumes the parent when the last one
// finishes, so every child is joined before the combinator returns.

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <utility>
#include <variant>
#include <vector>

#include <coloop/core/task.hpp>

namespace coloop::detail {

template <class T>
using non_void_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

class group_state;

class group_child_promise_base : public promise_base {
 public:
  void unhandled_exception() noexcept { error_ = std::current_exception(); }
  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      return self.promise().group_->child_done(self.promise());
    }
    void await_resume() const noexcept {}
  };
  final_awaiter final_suspend() const noexcept { return {}; }

  std::coroutine_handle<> self_;
  group_state* group_ = nullptr;
  std::size_t index_ = 0;
  cancel_state own_cancel_;
  std::exception_ptr error_;
  std::atomic<bool> done_{false};  // read by siblings finishing on other threads
};

enum class group_mode : unsigned char { all, any };

class group_state : private cancel_slot {
 public:
  explicit group_state(group_mode mode) noexcept;
  group_state(const group_state&) = delete;
  group_state& operator=(const group_state&) = delete;

  /// Starts the children; false when the parent need not suspend (all done, or cancelled).
  bool start(std::coroutine_handle<> parent, cancel_state* parent_cancel,
             group_child_promise_base* const* children, std::size_t count);
  /// After the last child: rethrows when_all's first failure, or cancelled_error.
  void finish();
  /// when_any: the index of the first child to finish.
  std::size_t winner() const noexcept { return winner_.load(std::memory_order_relaxed); }
  /// Whether the awaiting task was cancelled while the children ran.
  bool parent_cancelled() const noexcept { return parent_cancelled_; }

 private:
  friend class group_child_promise_base;
  static cancel_outcome on_parent_cancel(cancel_slot* self) noexcept;
  std::coroutine_handle<> child_done(group_child_promise_base& child) noexcept;
  void cancel_unfinished() noexcept;

  group_child_promise_base* const* children_ = nullptr;
  std::size_t count_ = 0;
  // Children may finish on different threads (runtime workers): the count orders their results
  // before the parent's resumption, and the first failure / first finisher is decided by CAS.
  std::atomic<std::size_t> remaining_{0};
  std::atomic<std::size_t> winner_{static_cast<std::size_t>(-1)};
  std::atomic<bool> failed_{false};
  std::coroutine_handle<> parent_;
  cancel_state* parent_cancel_ = nullptr;
  std::exception_ptr first_error_;
  group_mode mode_;
  bool parent_cancelled_ = false;
  bool cancelled_before_start_ = false;
};

template <class T>
class group_child {
 public:
  class promise_type;
  using handle_type = std::coroutine_handle<promise_type>;

  explicit group_child(handle_type h) noexcept : h_(h) {}
  group_child(group_child&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  group_child& operator=(group_child&&) = delete;
  ~group_child() {
    if (h_) h_.destroy();
  }
  group_child_promise_base* base() const noexcept { return &h_.promise(); }
  /// The child's value, or rethrows its exception.
  decltype(auto) take() {
    auto& p = h_.promise();
    if (p.error_) std::rethrow_exception(p.error_);
    if constexpr (std::is_void_v<T>) {
      return std::monostate{};
    } else if constexpr (std::is_reference_v<T>) {
      return p.value_.get();
    } else {
      return std::move(p.value_).get();
    }
  }

 private:
  handle_type h_;
};

template <class T>
class group_child<T>::promise_type : public group_child_promise_base {
 public:
  group_child get_return_object() noexcept {
    auto h = handle_type::from_promise(*this);
    self_ = h;
    return group_child{h};
  }
  template <class U = T>
  void return_value(U&& v) {
    value_.set_value(std::forward<U>(v));
  }
  result<T> value_;
};

template <>
class group_child<void>::promise_type : public group_child_promise_base {
 public:
  group_child get_return_object() noexcept {
    auto h = handle_type::from_promise(*this);
    self_ = h;
    return group_child{h};
  }
  void return_void() noexcept {}
};

template <class T>
group_child<T> make_group_child(task<T> t) {
  co_return co_await std::move(t);
}
inline group_child<void> make_group_child(task<void> t) { co_await std::move(t); }

template <class V>
inline constexpr bool is_task_vector = false;
template <class T>
inline constexpr bool is_task_vector<std::vector<task<T>>> = true;
/// Whether a forwarded vector of tasks can be moved from (not an lvalue, not const).
template <class V>
inline constexpr bool is_movable_arg = !std::is_reference_v<V> && !std::is_const_v<V>;
template <class V>
inline constexpr bool dependent_false = false;

/// The children of a vector-form when_all / when_any, and the list the group walks.
template <class T>
struct child_list {
  std::vector<group_child<T>> children;
  std::vector<group_child_promise_base*> bases;

  explicit child_list(std::vector<task<T>>& tasks) {
    children.reserve(tasks.size());
    bases.reserve(tasks.size());
    for (auto& t : tasks) {
      children.push_back(make_group_child(std::move(t)));
      bases.push_back(children.back().base());
    }
  }
};

/// Suspends the parent until every child has finished.
struct [[nodiscard]] group_awaiter {
  group_state& group;
  group_child_promise_base* const* children;
  std::size_t count;

  bool await_ready() const noexcept { return count == 0; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> parent) {
    return group.start(parent, cancel_state_of(parent), children, count);
  }
  void await_resume() { group.finish(); }
};

}  // namespace coloop::detail

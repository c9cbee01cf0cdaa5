#pragma once
// layer: sync
// What coloop's queues share whatever their item type: the waiter lists, the capacity, the
// unfinished-task count behind join(), shutdown; and the three orders (FIFO, LIFO, priority) as
// buffers with one interface.

#include <algorithm>
#include <coloop/core/shutdown_mode.hpp>
#include <coloop/detail/handoff.hpp>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <utility>
#include <vector>

namespace coloop::detail {

class queue_base : protected handoff_owner {
 public:
  /// What join() returns: co_await it to wait until every item put has been marked task_done().
  class [[nodiscard]] join_awaiter : private handoff_waiter {
   public:
    explicit join_awaiter(queue_base& q) noexcept : handoff_waiter(q), q_(&q) { kind_ = joiner; }
    bool await_ready() noexcept { return q_->join_ready(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
      return q_->join_suspend(*this, h, cancel_state_of(h));
    }
    void await_resume() { check_resumed(); }

   private:
    friend class queue_base;
    queue_base* q_;
  };

 protected:
  static constexpr unsigned char getter = 1, putter = 2, joiner = 3;

  explicit queue_base(std::size_t capacity) noexcept : capacity_(capacity) {}
  ~queue_base() = default;

  bool join_ready() noexcept;
  bool join_suspend(join_awaiter& a, std::coroutine_handle<> h, cancel_state* c) noexcept;
  void task_done_impl();
  /// Under lock_: `n` unfinished items went away (dropped by shutdown); wakes join() at zero.
  void forget_unfinished(std::size_t n, wake_batch& woken) noexcept;
  /// Under lock_: marks it closed and ends every get and put wait with errc::closed.
  void close_waiters(wake_batch& woken) noexcept;
  [[noreturn]] static void throw_closed();

  handoff_list getters_, putters_, joiners_;
  std::size_t capacity_;        // 0: unbounded
  std::size_t unfinished_ = 0;  // put and not yet task_done()
  bool closed_ = false;
  bool dropped_ = false;  // shut down with shutdown_mode::cancel
};

template <class T>
class fifo_buffer {
 public:
  bool empty() const noexcept { return items_.empty(); }
  std::size_t size() const noexcept { return items_.size(); }
  void push(T&& v) { items_.push_back(std::move(v)); }
  T pop() {
    T v = std::move(items_.front());
    items_.pop_front();
    return v;
  }
  /// An item handed out but never received goes back where it came from.
  void put_back(T&& v) { items_.push_front(std::move(v)); }

 private:
  std::deque<T> items_;
};

template <class T>
class lifo_buffer {
 public:
  bool empty() const noexcept { return items_.empty(); }
  std::size_t size() const noexcept { return items_.size(); }
  void push(T&& v) { items_.push_back(std::move(v)); }
  T pop() {
    T v = std::move(items_.back());
    items_.pop_back();
    return v;
  }
  void put_back(T&& v) { items_.push_back(std::move(v)); }

 private:
  std::vector<T> items_;
};

/// A min-heap under Compare (std heaps are max-heaps, so it compares the other way round).
template <class T, class Compare>
class priority_buffer {
 public:
  bool empty() const noexcept { return items_.empty(); }
  std::size_t size() const noexcept { return items_.size(); }
  void push(T&& v) {
    items_.push_back(std::move(v));
    std::push_heap(items_.begin(), items_.end(), greater{});
  }
  T pop() {
    std::pop_heap(items_.begin(), items_.end(), greater{});
    T v = std::move(items_.back());
    items_.pop_back();
    return v;
  }
  void put_back(T&& v) { push(std::move(v)); }

 private:
  struct greater {
    bool operator()(const T& a, const T& b) const { return Compare{}(b, a); }
  };
  std::vector<T> items_;
};

}  // namespace coloop::detail

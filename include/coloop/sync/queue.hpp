#pragma once
// queue<T>, priority_queue<T>, lifo_queue<T>: asyncio.Queue and friends (Python 3.13 semantics,
// shutdown included) for tasks on any loop or worker, and for plain threads through the try_
// functions.

#include <coloop/core/shutdown_mode.hpp>
#include <coloop/detail/queue_base.hpp>
#include <concepts>
#include <coroutine>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>

namespace coloop {

/// A queue of T in the order Buffer keeps; use queue, priority_queue or lifo_queue. Thread-safe:
/// tasks on any worker or loop may share it; try_put, try_get, size, empty, full, task_done and
/// shutdown may also be called from plain threads (a woken task resumes on its own loop or
/// runtime). Move-only T works. Destroy it only when no task waits on it.
template <class T, class Buffer>
class basic_queue : private detail::queue_base {
 public:
  using value_type = T;

  /// What put() returns: co_await it.
  class [[nodiscard]] put_awaiter : private detail::handoff_waiter {
   public:
    put_awaiter(basic_queue& q, T&& item) : handoff_waiter(q), q_(&q), item_(std::move(item)) {
      kind_ = putter;
    }
    bool await_ready() {
      return q_->put_now(*this) && (state() != detail::handoff_state::taken || spend());
    }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
      if (state() == detail::handoff_state::taken) return requeue(h);
      return q_->put_suspend(*this, h, detail::cancel_state_of(h));
    }
    void await_resume() { check_resumed(); }

   private:
    friend class basic_queue;
    basic_queue* q_;
    T item_;
  };

  /// What get() returns: co_await it for the item.
  class [[nodiscard]] get_awaiter : private detail::handoff_waiter {
   public:
    explicit get_awaiter(basic_queue& q) noexcept : handoff_waiter(q), q_(&q) { kind_ = getter; }
    bool await_ready() {
      return q_->get_now(*this) && (state() != detail::handoff_state::taken || spend());
    }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
      if (state() == detail::handoff_state::taken) return requeue(h);
      return q_->get_suspend(*this, h, detail::cancel_state_of(h));
    }
    T await_resume() {
      check_resumed();
      return std::move(*item_);
    }

   private:
    friend class basic_queue;
    basic_queue* q_;
    std::optional<T> item_;
  };

  using join_awaiter = detail::queue_base::join_awaiter;

  /// At most `capacity` items; 0 means unbounded.
  explicit basic_queue(std::size_t capacity = 0) noexcept : queue_base(capacity) {}

  /// Puts `item`, waiting while the queue is full (FIFO among putters). system_error(errc::closed)
  /// once shut down. Cancellable: a cancelled put puts nothing; one cancelled after its item went
  /// in stays pending.
  put_awaiter put(T item) { return put_awaiter(*this, std::move(item)); }
  /// Takes the next item, waiting while the queue is empty (FIFO among getters). Once shut down:
  /// what is left (drain), then system_error(errc::closed). Cancellable: a cancelled get takes
  /// nothing; an item handed to a getter whose frame dies before it resumes goes to the next
  /// getter or back into the queue.
  get_awaiter get() noexcept { return get_awaiter(*this); }
  /// Puts `item` if there is room and returns true; false (item untouched) if full.
  /// system_error(errc::closed) once shut down.
  bool try_put(T&& item) {
    detail::wake_batch woken;
    std::lock_guard lock(lock_);
    if (closed_) throw_closed();
    return offer(item, woken);
  }
  /// try_put of a copy.
  bool try_put(const T& item) requires std::copy_constructible<T> {
    T copy(item);
    return try_put(std::move(copy));
  }
  /// The next item, or nullopt if empty; system_error(errc::closed) if empty and shut down.
  std::optional<T> try_get() {
    std::optional<T> out;
    detail::wake_batch woken;
    std::lock_guard lock(lock_);
    if (!take(out, woken) && closed_) throw_closed();
    return out;
  }
  /// Items in the queue (a snapshot).
  std::size_t size() const {
    std::lock_guard lock(lock_);
    return buffer_.size();
  }
  bool empty() const { return size() == 0; }
  /// Whether it holds `capacity` items (never for an unbounded queue).
  bool full() const {
    std::lock_guard lock(lock_);
    return capacity_ != 0 && buffer_.size() >= capacity_;
  }
  std::size_t capacity() const noexcept { return capacity_; }
  /// Marks one item taken earlier as processed. std::logic_error if called more times than items
  /// were put.
  void task_done() { task_done_impl(); }
  /// Waits until every item put has been marked task_done(). Cancellable.
  join_awaiter join() noexcept { return join_awaiter(*this); }
  /// Closes the queue: put() throws errc::closed from now on and every waiting put and get wakes
  /// (the gets with errc::closed). drain: get() still returns what is left; cancel: what is left
  /// is destroyed and counted as done for join(). Idempotent; any thread.
  void shutdown(shutdown_mode mode = shutdown_mode::drain) {
    Buffer dropped;  // destroyed after the lock is released
    detail::wake_batch woken;
    std::lock_guard lock(lock_);
    close_waiters(woken);
    if (mode == shutdown_mode::cancel) {
      dropped_ = true;
      std::swap(dropped, buffer_);
      forget_unfinished(dropped.size(), woken);
    }
  }

 private:
  // Under lock_: hands `item` to the first getter or stores it; false (untouched) if full.
  bool offer(T& item, detail::wake_batch& woken) {
    if (detail::handoff_waiter* g = getters_.pop_front()) {
      static_cast<get_awaiter&>(*g).item_.emplace(std::move(item));
      ++unfinished_;
      woken.add(*g);
      return true;
    }
    if (capacity_ != 0 && buffer_.size() >= capacity_) return false;
    buffer_.push(std::move(item));
    ++unfinished_;
    return true;
  }
  // Under lock_: the next item into `out`, letting the first waiting putter in; false if empty.
  bool take(std::optional<T>& out, detail::wake_batch& woken) {
    if (buffer_.empty()) return false;
    out.emplace(buffer_.pop());
    if (detail::handoff_waiter* p = putters_.pop_front()) {
      buffer_.push(std::move(static_cast<put_awaiter&>(*p).item_));
      ++unfinished_;
      woken.add(*p);
    }
    return true;
  }
  bool put_now(put_awaiter& a) {
    detail::wake_batch woken;
    std::lock_guard lock(lock_);
    if (closed_) {
      a.set_state(detail::handoff_state::closed);
      return true;
    }
    if (!offer(a.item_, woken)) return false;
    a.set_state(detail::handoff_state::taken);
    return true;
  }
  bool put_suspend(put_awaiter& a, std::coroutine_handle<> h, detail::cancel_state* c) {
    detail::wake_batch woken;
    std::lock_guard lock(lock_);
    if (closed_) {
      a.set_state(detail::handoff_state::closed);
      return false;
    }
    if (offer(a.item_, woken)) {
      a.set_state(detail::handoff_state::taken);
      return false;
    }
    return a.park(putters_, h, c);
  }
  bool get_now(get_awaiter& a) {
    detail::wake_batch woken;
    std::lock_guard lock(lock_);
    if (take(a.item_, woken)) {
      a.set_state(detail::handoff_state::taken);
      return true;
    }
    if (!closed_) return false;
    a.set_state(detail::handoff_state::closed);
    return true;
  }
  bool get_suspend(get_awaiter& a, std::coroutine_handle<> h, detail::cancel_state* c) {
    detail::wake_batch woken;
    std::lock_guard lock(lock_);
    if (take(a.item_, woken)) {
      a.set_state(detail::handoff_state::taken);
      return false;
    }
    if (closed_) {
      a.set_state(detail::handoff_state::closed);
      return false;
    }
    return a.park(getters_, h, c);
  }
  void abandoned(detail::handoff_waiter& w, detail::wake_batch& woken) noexcept override {
    if (w.kind() != getter) return;  // a put's item is already in; a join holds nothing
    std::optional<T>& item = static_cast<get_awaiter&>(w).item_;
    if (!item) return;
    if (dropped_) {  // shut down with cancel since: dropped like the rest
      item.reset();
      forget_unfinished(1, woken);
      return;
    }
    try {
      if (detail::handoff_waiter* g = getters_.pop_front()) {
        static_cast<get_awaiter&>(*g).item_.emplace(std::move(*item));
        woken.add(*g);
      } else {
        buffer_.put_back(std::move(*item));  // may exceed the capacity by the one item
      }
    } catch (...) {  // out of memory putting it back: it is lost, but join() must not hang
      forget_unfinished(1, woken);
    }
    item.reset();
  }

  Buffer buffer_;
};

/// asyncio.Queue: first in, first out.
template <class T>
class queue : public basic_queue<T, detail::fifo_buffer<T>> {
 public:
  using basic_queue<T, detail::fifo_buffer<T>>::basic_queue;
};

/// asyncio.LifoQueue: last in, first out.
template <class T>
class lifo_queue : public basic_queue<T, detail::lifo_buffer<T>> {
 public:
  using basic_queue<T, detail::lifo_buffer<T>>::basic_queue;
};

/// asyncio.PriorityQueue: get() returns the SMALLEST item under Compare first (unlike
/// std::priority_queue, which pops the largest). Compare must be default-constructible; equal
/// items come out in no particular order.
template <class T, class Compare = std::less<T>>
class priority_queue : public basic_queue<T, detail::priority_buffer<T, Compare>> {
 public:
  using basic_queue<T, detail::priority_buffer<T, Compare>>::basic_queue;
};

}  // namespace coloop

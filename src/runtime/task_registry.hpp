#pragma once
// A list of live spawned tasks: the event loop's (what coloop::run cancels at the end and what
// close() destroys), and each shard of the runtime's (multi_thread/shared_task_registry.hpp).
// Intrusive, so registering allocates nothing. Not thread-safe.

#include <cstddef>
#include <utility>

#include <coloop/detail/spawned.hpp>

namespace coloop::detail {

/// A counted list threaded through T's `Prev` and `Next` members, newest first: the tasks of a
/// registry (prev_/next_) and the children of a task_group (gprev_/gnext_). Not thread-safe.
template <class T, T* T::*Prev, T* T::*Next>
class linked_tasks {
 public:
  void add(T& t) noexcept {
    t.*Prev = nullptr;
    t.*Next = head_;
    if (head_ != nullptr) head_->*Prev = &t;
    head_ = &t;
    ++size_;
  }
  void remove(T& t) noexcept {
    // Through locals: member pointers hide from the compiler that `t` is not its neighbour.
    T* const prev = std::exchange(t.*Prev, nullptr);
    T* const next = std::exchange(t.*Next, nullptr);
    (prev != nullptr ? prev->*Next : head_) = next;
    if (next != nullptr) next->*Prev = prev;
    --size_;
  }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T* first() const noexcept { return head_; }

  void cancel_all() noexcept {
    for (T* t = head_; t != nullptr; t = t->*Next) {
      static_cast<spawn_promise_base*>(t)->request_cancel();
    }
  }

 private:
  T* head_ = nullptr;
  std::size_t size_ = 0;
};

using task_registry =
    linked_tasks<spawn_promise_base, &spawn_promise_base::prev_, &spawn_promise_base::next_>;

}  // namespace coloop::detail

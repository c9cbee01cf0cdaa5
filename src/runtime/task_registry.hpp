#pragma once
// A list of live spawned tasks: the event loop's (what coloop::run cancels at the end and what
// close() destroys), and each shard of the runtime's (multi_thread/shared_task_registry.hpp).
// Intrusive, so registering allocates nothing. Not thread-safe.

#include <cstddef>

#include <coloop/detail/spawned.hpp>

namespace coloop::detail {

class task_registry {
 public:
  void add(spawn_promise_base& t) noexcept {
    t.prev_ = nullptr;
    t.next_ = head_;
    if (head_ != nullptr) head_->prev_ = &t;
    head_ = &t;
    ++size_;
  }
  void remove(spawn_promise_base& t) noexcept {
    if (t.prev_ != nullptr) t.prev_->next_ = t.next_; else head_ = t.next_;
    if (t.next_ != nullptr) t.next_->prev_ = t.prev_;
    t.prev_ = t.next_ = nullptr;
    --size_;
  }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  spawn_promise_base* first() const noexcept { return head_; }

  /// Requests cancellation of every live task.
  void cancel_all() noexcept {
    for (spawn_promise_base* t = head_; t != nullptr; t = t->next_) t->request_cancel();
  }

 private:
  spawn_promise_base* head_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace coloop::detail

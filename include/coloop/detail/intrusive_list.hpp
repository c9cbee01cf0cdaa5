#pragma once
// layer: core
// intrusive_list: a doubly linked list threaded through its elements' own `prev_` and `next_`
// (waiters in coroutine frames, pool jobs, a reactor's fd entries), so linking allocates
// nothing. Not synchronised: its owner's lock guards it. A type whose links are private
// befriends it.

namespace coloop::detail {

template <class T>
class intrusive_list {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  T* front() const noexcept { return head_; }
  T* back() const noexcept { return tail_; }
  void push_back(T& x) noexcept {
    x.prev_ = tail_;
    x.next_ = nullptr;
    (tail_ != nullptr ? tail_->next_ : head_) = &x;
    tail_ = &x;
  }
  void push_front(T& x) noexcept { insert_after(nullptr, x); }
  /// Links `x` right after `at` (in this list), or first when `at` is null.
  void insert_after(T* at, T& x) noexcept {
    x.prev_ = at;
    x.next_ = at != nullptr ? at->next_ : head_;
    (x.next_ != nullptr ? x.next_->prev_ : tail_) = &x;
    (at != nullptr ? at->next_ : head_) = &x;
  }
  /// Unlinks `x`, which is in this list, and clears its links.
  void remove(T& x) noexcept {
    (x.prev_ != nullptr ? x.prev_->next_ : head_) = x.next_;
    (x.next_ != nullptr ? x.next_->prev_ : tail_) = x.prev_;
    x.prev_ = x.next_ = nullptr;
  }
  T* pop_front() noexcept {
    T* x = head_;
    if (x != nullptr) remove(*x);
    return x;
  }
  /// Empties the list at once; returns its first element, the rest still chained by next_.
  T* take_all() noexcept {
    T* x = head_;
    head_ = tail_ = nullptr;
    return x;
  }

 private:
  T* head_ = nullptr;
  T* tail_ = nullptr;
};

}  // namespace coloop::detail

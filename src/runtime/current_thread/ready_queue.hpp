#pragma once
// The loop's FIFO of callbacks ready to run: a growable ring, so pushing allocates only while the
// ring grows to its high-water mark. Positions are absolute (a ticket: tail() before a push), so
// an entry not yet run can be withdrawn: its slot empties, pop skips it, and empty slots at the
// back are dropped, so a joiner that runs its children itself leaves no trail in the ring.
// The newest spawned task waits in a slot of its own (push_start) and enters the ring at its
// ticket before anything else does (every push, pop and clear flushes it first), so the order is
// the same; a child joined at once (spawn then co_await) is withdrawn from that slot without ever
// touching the ring.

#include <coroutine>
#include <cstddef>
#include <memory>
#include <new>
#include <utility>

#include <coloop/detail/callback.hpp>

namespace coloop::detail {

class ready_queue {
 public:
  ready_queue() : slots_(std::make_unique<callback[]>(initial_capacity)), mask_(initial_capacity - 1) {}

  bool empty() const noexcept { return head_ == tail_ && !pending_; }
  std::size_t size() const noexcept { return tail_ - head_ + (pending_ ? 1 : 0); }

  /// Queues a spawned task's first step; returns its ticket.
  std::size_t push_start(std::coroutine_handle<> h) {
    if (pending_) flush();
    if (tail_ - head_ == mask_ + 1) grow();  // its room in the ring: flush() cannot fail
    pending_ = h;
    return tail_;
  }
  void push(callback&& cb) {
    if (pending_) flush();
    if (tail_ - head_ == mask_ + 1) grow();
    slots_[tail_++ & mask_] = std::move(cb);
  }
  /// push(callback::resume(h)), built in place: resuming is most of what the loop queues.
  void push_resume(std::coroutine_handle<> h) {
    if (pending_) flush();
    if (tail_ - head_ == mask_ + 1) grow();
    callback* slot = &slots_[tail_++ & mask_];
    std::destroy_at(slot);  // an emptied slot: nothing to destroy but the object
    ::new (static_cast<void*>(slot)) callback(callback::resume(h));
  }
  /// Not empty(): the last entry is never an emptied one.
  callback pop() noexcept {
    if (pending_) flush();
    while (!slots_[head_ & mask_]) [[unlikely]] ++head_;
    return std::move(slots_[head_++ & mask_]);
  }
  std::size_t tail() const noexcept { return tail_; }
  /// Drops the entry pushed at `ticket` if it has not been popped yet; false if it has.
  bool withdraw(std::size_t ticket) noexcept {
    if (ticket < head_) return false;
    if (ticket == tail_) {  // only the pending entry is not in the ring yet
      if (!pending_) return false;
      pending_ = {};
    } else {
      slots_[ticket & mask_].reset();
    }
    // Trimmed only without a pending entry: its ticket is the tail.
    while (!pending_ && tail_ != head_ && !slots_[(tail_ - 1) & mask_]) --tail_;
    return true;
  }
  void clear() noexcept {
    pending_ = {};
    for (; head_ != tail_; ++head_) slots_[head_ & mask_].reset();
  }

 private:
  static constexpr std::size_t initial_capacity = 256;
  void flush() noexcept {
    callback* slot = &slots_[tail_++ & mask_];
    std::destroy_at(slot);  // an emptied slot, as in push_resume
    ::new (static_cast<void*>(slot)) callback(callback::resume(std::exchange(pending_, {})));
  }
  void grow() {
    const std::size_t capacity = (mask_ + 1) * 2;
    auto bigger = std::make_unique<callback[]>(capacity);
    for (std::size_t i = head_; i != tail_; ++i) {  // same positions: tickets stay valid
      bigger[i & (capacity - 1)] = std::move(slots_[i & mask_]);
    }
    slots_ = std::move(bigger);
    mask_ = capacity - 1;
  }
  std::unique_ptr<callback[]> slots_;
  std::size_t mask_;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
  std::coroutine_handle<> pending_;  // push_start's entry, at ticket tail_
};

}  // namespace coloop::detail

#pragma once
// The loop's FIFO of callbacks ready to run: a growable ring, so pushing allocates only while the
// ring grows to its high-water mark. Positions are absolute (a ticket: tail() before a push), so
// an entry not yet run can be withdrawn: its slot empties, pop skips it, and empty slots at the
// back are dropped, so a joiner that runs its children itself leaves no trail in the ring.
// The newest spawned task's slot is reserved but left empty (push_start), and filled only when
// pop reaches it or another spawn comes, so a child joined at once (spawn then co_await) is
// withdrawn without its callback ever being written; nothing else pays for it (pop looks only
// when it meets an empty slot).

#include <coroutine>
#include <cstddef>
#include <memory>
#include <new>
#include <utility>

#include <coloop/detail/callback.hpp>

namespace coloop::detail {

class ready_queue {
 public:
  ready_queue()
      : slots_(std::make_unique<callback[]>(initial_capacity)), mask_(initial_capacity - 1) {}

  bool empty() const noexcept { return head_ == tail_; }
  std::size_t size() const noexcept { return tail_ - head_; }

  /// Queues a spawned task's first step; returns its ticket.
  std::size_t push_start(std::coroutine_handle<> h) {
    if (pending_ || size() == mask_ + 1) [[unlikely]] return push_start_slow(h);
    pending_ = h;
    pending_ticket_ = tail_;
    return tail_++;
  }
  void push(callback&& cb) {
    if (size() == mask_ + 1) grow();
    slots_[tail_++ & mask_] = std::move(cb);
  }
  /// push(callback::resume(h)), built in place: resuming is most of what the loop queues.
  void push_resume(std::coroutine_handle<> h) {
    if (size() == mask_ + 1) grow();
    callback* slot = &slots_[tail_++ & mask_];
    std::destroy_at(slot);  // an emptied slot: nothing to destroy but the object
    ::new (static_cast<void*>(slot)) callback(callback::resume(h));
  }
  /// Not empty(): the last entry is never an emptied one (the pending one is filled here).
  callback pop() noexcept {
    while (!slots_[head_ & mask_]) [[unlikely]] {
      if (pending_ && head_ == pending_ticket_) {
        fill_pending();
        break;
      }
      ++head_;
    }
    return std::move(slots_[head_++ & mask_]);
  }
  std::size_t tail() const noexcept { return tail_; }
  /// The position of the next entry pop() looks at; the entry it returned was at head() - 1.
  std::size_t head() const noexcept { return head_; }
  /// Calls f(frame) for each queued coroutine resumption, in no particular order (task dumps:
  /// the callbacks that resume a frame, and the reserved first step of the newest spawn).
  template <class F>
  void for_each_resumed(F&& f) const {
    for (std::size_t i = head_; i != tail_; ++i) {
      if (void* frame = slots_[i & mask_].resumed_frame()) f(frame);
    }
    if (pending_) f(pending_.address());
  }
  /// Drops the entry pushed at `ticket` if it has not been popped yet; false if it has.
  /// Only a spawn's ticket: the pending entry is never older than it, so the emptied entries
  /// below the withdrawn last one are not the pending one.
  bool withdraw(std::size_t ticket) noexcept {
    if (ticket < head_) return false;
    if (withdraw_pending(ticket)) return true;
    slots_[ticket & mask_].reset();
    trim(ticket);
    return true;
  }
  /// withdraw when `ticket` is the pending entry (the newest spawn, joined at once), else false.
  bool withdraw_pending(std::size_t ticket) noexcept {
    if (!pending_ || ticket != pending_ticket_) return false;
    pending_ = {};  // its slot is empty already
    trim(ticket);
    return true;
  }
  void clear() noexcept {
    pending_ = {};
    for (; head_ != tail_; ++head_) slots_[head_ & mask_].reset();
  }

 private:
  static constexpr std::size_t initial_capacity = 256;
  /// push_start when the pending entry must be filled first or the ring is full: out of line,
  /// so the common push_start needs no saved registers.
  [[gnu::noinline]] std::size_t push_start_slow(std::coroutine_handle<> h) {
    if (pending_) fill_pending();
    if (size() == mask_ + 1) grow();
    return push_start(h);  // now neither
  }
  /// After withdrawing `ticket`: if it was the last entry, drops it and the emptied ones below.
  void trim(std::size_t ticket) noexcept {
    if (ticket + 1 != tail_) return;
    do {
      --tail_;
    } while (tail_ != head_ && !slots_[(tail_ - 1) & mask_]);
  }
  void fill_pending() noexcept {
    callback* slot = &slots_[pending_ticket_ & mask_];
    std::destroy_at(slot);  // reserved empty
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
  std::coroutine_handle<> pending_;  // push_start's entry, its slot reserved but empty
  std::size_t pending_ticket_ = 0;
};

}  // namespace coloop::detail

#pragma once
// A worker's bounded local run queue (tokio's `queue::Local`): a ring of 256 coroutine handles
// with one producer, the owning worker, and any number of stealers.
//
// Design. `tail_` is a 32-bit position written only by the owner. `head_` packs two 32-bit
// positions in one 64-bit atomic: `real` (the next task to hand out) in the low half and `steal`
// (the first slot a stealer may still be reading) in the high half. Positions wrap; only
// differences are used, and `tail - steal <= capacity` always holds.
//   - The owner pushes at tail (slot store, then a release store of tail) and pops at real (CAS on
//     head, advancing real; also steal when no steal is in flight).
//   - A stealer claims [real, real + n) with one CAS that advances real but leaves steal behind,
//     copies the slots into its own queue, then releases them with a second CAS setting
//     steal = real. While steal != real no other stealer starts, and the owner does not write
//     over the claimed slots because its fullness check counts from steal.
//   - When full, the owner claims half the ring plus the new task with one CAS and moves them to
//     the inject queue in one batch, so the overflow cost is paid once per 128 pushes.
// Every slot is a relaxed std::atomic<void*>: the head/tail acquire-release pairs order the slot
// accesses, and relaxed atomics keep a (benign) stale read defined and TSan-visible.
// The algorithm is checked by tests/runtime/mt/local_queue_model_test.cpp, which explores every
// interleaving of a transcription of these functions on a ring of 4.

#include <array>
#include <atomic>
#include <coroutine>
#include <cstdint>
#include <span>

namespace coloop::detail::mt {

class inject_queue;

/// Bounded work-stealing run queue of one worker. Owner operations must be called only from the
/// owning worker's thread; steal_into, len and is_empty from any thread.
class local_queue {
 public:
  static constexpr std::uint32_t capacity = 256;
  static constexpr std::uint32_t mask = capacity - 1;

  local_queue() noexcept : local_queue(0) {}
  /// Starts all positions at `start` (tests use a value just below 2^32 to cover wrap-around).
  explicit local_queue(std::uint32_t start) noexcept;
  /// The runtime must drain the queue before destroying it; a non-empty queue asserts.
  ~local_queue();

  /// Owner: appends `h`. When the ring is full, moves the older half plus `h` to `overflow` in one
  /// batch (accepted even after overflow.close()). Does not throw; terminates if the inject queue
  /// cannot grow (out of memory).
  void push_back(std::coroutine_handle<> h, inject_queue& overflow) noexcept;
  /// Owner: appends all of `hs`; requires hs.size() <= remaining_slots().
  void push_back_batch(std::span<const std::coroutine_handle<>> hs) noexcept;
  /// Owner: takes the oldest task, or a null handle when empty.
  std::coroutine_handle<> pop() noexcept;
  /// Owner: how many pushes fit before the overflow path (slots being stolen count as used).
  std::uint32_t remaining_slots() const noexcept;

  /// Any thread: tasks queued and not yet claimed (a snapshot; exact on the owner's thread).
  std::uint32_t len() const noexcept;
  bool is_empty() const noexcept { return len() == 0; }

  /// Owner, for debug mode's scheduling delay: the position of the next push; of the next task
  /// handed out; and the task last stored at `position` (kept after it is handed out).
  /// relaxed, all three: the owner reads its own stores, or a position it only compares.
  std::uint32_t tail_position() const noexcept { return tail_.load(std::memory_order_relaxed); }
  std::uint32_t head_position() const noexcept {
    return real_of(head_.load(std::memory_order_relaxed));
  }
  void* slot_at(std::uint32_t position) const noexcept {
    return buffer_[position & mask].load(std::memory_order_relaxed);
  }

  /// Any thread, for task dumps: calls f(handle) for each task queued and not yet claimed.
  /// Exact while the owner and every stealer stand still (the runtime's workers paused); else a
  /// snapshot that may miss, or see twice, a task moving meanwhile.
  template <class F>
  void for_each(F&& f) const {
    // acquire, as len(): the slots below were stored before the release that published them.
    const std::uint32_t real = real_of(head_.load(std::memory_order_acquire));
    const std::uint32_t tail = tail_.load(std::memory_order_acquire);
    if (tail - real > capacity) return;  // moved under a reader that does not stand still
    for (std::uint32_t i = real; i != tail; ++i) {
      f(std::coroutine_handle<>::from_address(buffer_[i & mask].load(std::memory_order_relaxed)));
    }
  }

  /// Stealer: moves about half of this queue's tasks (rounded up) into `dst`, which must be the
  /// calling worker's own queue, and returns one of them to run now. Returns null, moving nothing,
  /// when this queue is empty, another steal from it is in flight, or dst is more than half full.
  std::coroutine_handle<> steal_into(local_queue& dst) noexcept;

 private:
  static std::uint64_t pack(std::uint32_t steal, std::uint32_t real) noexcept {
    return (std::uint64_t{steal} << 32) | real;
  }
  static std::uint32_t steal_of(std::uint64_t head) noexcept {
    return static_cast<std::uint32_t>(head >> 32);
  }
  static std::uint32_t real_of(std::uint64_t head) noexcept {
    return static_cast<std::uint32_t>(head);
  }
  bool push_overflow(std::coroutine_handle<> h, std::uint32_t head, std::uint32_t tail,
                     inject_queue& overflow) noexcept;
  std::uint32_t steal_into2(local_queue& dst, std::uint32_t dst_tail) noexcept;

  alignas(64) std::atomic<std::uint64_t> head_;  // pack(steal, real); stealers and owner CAS it
  alignas(64) std::atomic<std::uint32_t> tail_;  // stored by the owner only
  alignas(64) std::array<std::atomic<void*>, capacity> buffer_;
};

}  // namespace coloop::detail::mt

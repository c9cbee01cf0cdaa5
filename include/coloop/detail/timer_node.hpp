#pragma once
// layer: runtime
// A timer as the loop's timing wheel sees it (src/runtime/driver/timer_wheel.hpp). Public only
// so that awaiters can embed one in the coroutine frame: arming a sleep or a timeout allocates
// nothing.

#include <cstdint>

namespace coloop::detail {

/// One timer, embedded in its owner (an awaiter frame, a callback entry). The owner sets
/// `deadline` and `fire` before insert and keeps the node alive while it is armed.
struct timer_node {
  std::int64_t deadline = 0;                     // ns on the monotonic clock
  void (*fire)(timer_node*) noexcept = nullptr;  // called on expiry, after the node is unlinked

  // Wheel-private bookkeeping (public only to keep the type standard-layout; do not touch).
  timer_node* prev_ = nullptr;  // slot list or due list
  timer_node* next_ = nullptr;
  std::uint64_t seq_ = 0;       // insertion order: FIFO among equal deadlines
  std::uint8_t level_ = 0;      // slot position while state_ == in_wheel
  std::uint8_t slot_ = 0;
  std::uint8_t state_ = 0;      // timer_wheel::state

  /// Inserted and neither fired nor removed.
  bool armed() const noexcept { return state_ != 0; }
};

}  // namespace coloop::detail

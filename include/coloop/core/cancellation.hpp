#pragma once
// Cancellation plumbing shared by every awaitable: each task (and each child of when_all,
// when_any and wait_for) owns a cancel_state; an awaiter that suspends registers a cancel_slot on
// it so a cancel request can withdraw the pending operation.

#include <exception>
#include <utility>

#include <coloop/core/errors.hpp>

namespace coloop::detail {

/// Registered by a suspended awaiter. on_cancel withdraws the operation and arranges for the
/// waiter to resume with cancelled_error, returning true; it returns false when the operation has
/// already completed (its result is on the way), in which case the request stays pending.
struct cancel_slot {
  bool (*on_cancel)(cancel_slot* self) noexcept = nullptr;
};

/// Cancellation state of one task. Used only on the thread that runs the task.
class cancel_state {
 public:
  /// Withdraws the pending operation now, or leaves the request for the next suspending await.
  void request() noexcept {
    cancel_slot* s = std::exchange(slot_, nullptr);
    if (s != nullptr && s->on_cancel(s)) return;
    pending_ = true;
  }
  /// Called by an awaiter before it suspends. False means a request was pending: it is consumed
  /// and the awaiter must not suspend but throw cancelled_error.
  [[nodiscard]] bool arm(cancel_slot* s) noexcept {
    if (pending_) {
      pending_ = false;
      return false;
    }
    slot_ = s;
    return true;
  }
  /// Called when the registered operation completes on its own.
  void disarm() noexcept { slot_ = nullptr; }
  bool pending() const noexcept { return pending_; }
  /// Takes a pending request without suspending (for awaiters that never register a slot).
  bool consume_pending() noexcept { return std::exchange(pending_, false); }

 private:
  cancel_slot* slot_ = nullptr;
  bool pending_ = false;
};

[[noreturn]] void throw_cancelled();
/// Whether `e` holds a cancelled_error.
bool is_cancellation(const std::exception_ptr& e) noexcept;

}  // namespace coloop::detail

#pragma once
// Cancellation plumbing shared by every awaitable: each task (and each child of when_all,
// when_any and wait_for) owns a cancel_state; an awaiter that suspends registers a cancel_slot on
// it so a cancel request can withdraw the pending operation.

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>

#include <coloop/core/errors.hpp>

namespace coloop::detail {

class scheduler;

/// What a cancel_slot's on_cancel did. `resume` is null when the operation had already completed
/// (its result is on the way and the request stays pending); otherwise the operation is
/// withdrawn and `resume` is posted to `on` once the cancel_state is released (`on` null: nothing
/// to resume now, e.g. the cancel was passed on to a child task).
struct cancel_outcome {
  std::coroutine_handle<> resume;
  scheduler* on = nullptr;

  static cancel_outcome completed() noexcept { return {}; }
  static cancel_outcome passed_on() noexcept { return {std::noop_coroutine(), nullptr}; }
};

/// Registered by a suspended awaiter. on_cancel runs on the requesting thread, possibly while the
/// operation completes on another; it must decide between the two under the operation's own
/// synchronisation and must not resume anything itself (request() posts `resume` after it has
/// let go of the cancel_state, whose owner may be gone as soon as the waiter runs).
struct cancel_slot {
  cancel_outcome (*on_cancel)(cancel_slot* self) noexcept = nullptr;
};

/// Cancellation state of one task. The owner (the thread running the task) arms and disarms;
/// request() may come from any thread of the same scheduler. One atomic word: 0, a pending
/// request, a request being delivered (busy), or the armed slot.
///
/// The completer of an operation calls disarm() before resuming its waiter; if a requester is
/// inside on_cancel at that moment, disarm waits for it, so the slot (which lives in the waiter's
/// frame) is never freed under the requester. Completers therefore call disarm() holding no lock
/// that an on_cancel may take.
class cancel_state {
 public:
  /// Withdraws the pending operation now, or leaves the request for the next suspending await.
  void request() noexcept;
  /// Called by an awaiter before it suspends. False means a request was pending: it is consumed
  /// and the awaiter must not suspend but throw cancelled_error.
  [[nodiscard]] bool arm(cancel_slot* s) noexcept { return try_arm(s) || !consume_pending_slow(); }
  /// arm's common case alone: false, with nothing changed, when the word is not 0 (then arm).
  [[nodiscard]] bool try_arm(cancel_slot* s) noexcept {
    std::uintptr_t expected = 0;
    return word_.compare_exchange_strong(expected, reinterpret_cast<std::uintptr_t>(s),
                                         std::memory_order_acq_rel, std::memory_order_acquire);
  }
  /// Called when the registered operation completes on its own (or is abandoned).
  void disarm() noexcept {
    if (!try_disarm()) disarm_slow();
  }
  /// disarm's common case alone: false, with nothing changed, when a request came (then disarm).
  [[nodiscard]] bool try_disarm() noexcept {
    std::uintptr_t w = word_.load(std::memory_order_acquire);
    return w > busy && word_.compare_exchange_strong(w, 0, std::memory_order_acq_rel);
  }
  bool pending() const noexcept { return word_.load(std::memory_order_acquire) == pending_bit; }
  /// Takes a pending request without suspending (for awaiters that never register a slot).
  bool consume_pending() noexcept {
    return word_.load(std::memory_order_relaxed) != 0 && consume_pending_slow();
  }

 private:
  static constexpr std::uintptr_t pending_bit = 1, busy = 2;  // slots are aligned: > busy
  bool consume_pending_slow() noexcept;
  void disarm_slow() noexcept;
  std::atomic<std::uintptr_t> word_{0};
};

[[noreturn]] void throw_cancelled();
/// Whether `e` holds a cancelled_error.
bool is_cancellation(const std::exception_ptr& e) noexcept;

}  // namespace coloop::detail

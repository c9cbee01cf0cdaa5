#pragma once
// timer_handle: the cancellable result of event_loop::call_later / call_at.

#include <cstdint>

namespace coloop {

namespace detail {
struct timer_entry;
}

/// Refers to a callback scheduled with call_later/call_at. Copyable; cancel() on a timer that
/// already fired or was cancelled does nothing. Use on the loop's thread, while the loop exists.
class timer_handle {
 public:
  timer_handle() noexcept = default;
  timer_handle(detail::timer_entry* entry, std::uint64_t generation) noexcept
      : entry_(entry), generation_(generation) {}
  /// Withdraws the callback if it has not run yet; returns whether it did.
  bool cancel() noexcept;
  /// Whether the callback is still waiting to run.
  bool pending() const noexcept;

 private:
  detail::timer_entry* entry_ = nullptr;
  std::uint64_t generation_ = 0;
};

}  // namespace coloop
